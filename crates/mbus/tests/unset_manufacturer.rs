//! A wired meter whose manufacturer field is 0000 (never set) still decodes, shown as "@@@";
//! a wireless frame with that field stays refused.

use mbus::encode::{self, FrameSpec};
use mbus::{decode, DecodeError, DeviceType, Quantity, Value};

#[test]
fn wired_manufacturer_0000() {
    // CI 72: id 050002E5, manufacturer 0000, version 12, medium 02, access 25, status 00,
    // signature 0000; then energy 04 03 (Wh) = 2540.
    let body = [
        0x08, 0x02, 0x72, 0xE5, 0x02, 0x00, 0x05, 0x00, 0x00, 0x12, 0x02, 0x25, 0x00, 0x00, 0x00,
        0x04, 0x03, 0xEC, 0x09, 0x00, 0x00,
    ];
    let frame = encode::wired_long_frame(&body).expect("frame");
    let t = decode(&frame, None).expect("decodes");
    assert_eq!((t.address.manufacturer.as_str(), t.address.id.as_str()), ("@@@", "050002E5"));
    assert_eq!(t.address.device_type, DeviceType::Electricity);
    assert_eq!(t.records.first().map(|r| (r.quantity, r.value.clone())), Some((Quantity::Energy, Value::Number(2.54))));
    // Wireless: still refused.
    let spec = FrameSpec { manufacturer: "???", id: "00000001", version: 1, device_type: DeviceType::Water, access_number: 1, status: 0 };
    let w = encode::wmbus_frame(&spec, &[0x04, 0x13, 1, 0, 0, 0], None);
    assert_eq!(decode(&w, None).map(|_| ()), Err(DecodeError::UnknownManufacturer { code: 0 }));
}
