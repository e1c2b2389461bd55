//! Table `customers`.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
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
        "INSERT INTO customers(number, name, address, postal_code, city, email, phone, sort_name)
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    )?
    .execute(params![c.number, c.name, c.address, c.postal_code, c.city, c.email, c.phone, super::search::surname_key(&c.name)])?;
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

/// (id, customer) of the customer numbered `number`.
pub fn by_number(conn: &Connection, number: &str) -> Result<Option<(i64, Customer)>> {
    Ok(conn
        .prepare_cached("SELECT id, number, name, address, postal_code, city, email, phone FROM customers WHERE number = ?1")?
        .query_row([number], |r| {
            Ok((
                r.get(0)?,
                Customer {
                    number: r.get(1)?,
                    name: r.get(2)?,
                    address: r.get(3)?,
                    postal_code: r.get(4)?,
                    city: r.get(5)?,
                    email: r.get(6)?,
                    phone: r.get(7)?,
                },
            ))
        })
        .optional()?)
}

/// Overwrite every field of customer `id` but its number.
pub fn update(conn: &Connection, id: i64, c: &Customer) -> Result<()> {
    conn.prepare_cached(
        "UPDATE customers SET name = ?2, address = ?3, postal_code = ?4, city = ?5, email = ?6, phone = ?7, sort_name = ?8
         WHERE id = ?1",
    )?
    .execute(params![id, c.name, c.address, c.postal_code, c.city, c.email, c.phone, super::search::surname_key(&c.name)])?;
    Ok(())
}
