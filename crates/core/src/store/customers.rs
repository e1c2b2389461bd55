//! Table `customers`.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub number: String,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

pub fn insert(conn: &Connection, c: &Customer) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO customers(number, name, address, postal_code, city, email, phone) VALUES (?1,?2,?3,?4,?5,?6,?7)",
    )?
    .execute(params![c.number, c.name, c.address, c.postal_code, c.city, c.email, c.phone])?;
    Ok(conn.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Customer>> {
    Ok(conn
        .query_row(
            "SELECT number, name, address, postal_code, city, email, phone FROM customers WHERE id = ?1",
            [id],
            |r| {
                Ok(Customer {
                    number: r.get(0)?,
                    name: r.get(1)?,
                    address: r.get(2)?,
                    postal_code: r.get(3)?,
                    city: r.get(4)?,
                    email: r.get(5)?,
                    phone: r.get(6)?,
                })
            },
        )
        .optional()?)
}
