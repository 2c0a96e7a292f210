//! The synthetic tenant: users with their devices, places and home tenant, and the stable
//! identifiers derived from the seed.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::catalog::{DEVICE_KINDS, FIRST_NAMES, LAST_NAMES, PLACES};

pub const TENANT: &str = "7f3c2a10-5b8e-4d61-9a0f-2c4e6b8d1a35";
pub const PARTNER_TENANT: &str = "0b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

/// One device of a user.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub kind: usize,
    pub compliant: bool,
    pub managed: bool,
}

/// One user of the tenant.
#[derive(Debug, Clone)]
pub struct User {
    pub upn: String,
    pub name: String,
    pub id: String,
    pub place: usize,
    pub ip: String,
    pub devices: Vec<Device>,
}

/// A GUID made from 128 bits.
pub fn guid(bits: u128) -> String {
    let b = bits.to_be_bytes();
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-{:01x}{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6] & 0x0f, b[7], 8 | (b[8] & 0x03), b[8] >> 4, b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

/// `count` users, each with one to three devices.
pub fn users(rng: &mut ChaCha8Rng, count: usize) -> Vec<User> {
    (0..count)
        .map(|index| {
            let first = FIRST_NAMES[index % FIRST_NAMES.len()];
            let last = LAST_NAMES[(index / FIRST_NAMES.len()) % LAST_NAMES.len()];
            let suffix = index / (FIRST_NAMES.len() * LAST_NAMES.len());
            let handle = if suffix == 0 { format!("{first}.{last}") } else { format!("{first}.{last}{suffix}") };
            let place = rng.random_range(0..PLACES.len());
            let devices = (0..rng.random_range(1..=3))
                .map(|_| {
                    let compliant = rng.random_bool(0.7);
                    Device {
                        id: guid(rng.random()),
                        kind: rng.random_range(0..DEVICE_KINDS.len()),
                        compliant,
                        managed: compliant || rng.random_bool(0.3),
                    }
                })
                .collect();
            User {
                upn: format!("{}@contoso.example", handle.to_lowercase()),
                name: format!("{first} {last}"),
                id: guid(rng.random()),
                place,
                ip: format!("{}{}", PLACES[place].5, rng.random_range(1..255)),
                devices,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_have_the_version_4_shape() {
        let text = guid(u128::MAX);
        assert!(crate::foci::is_guid(&text), "{text}");
        assert_eq!(&text[14..15], "4");
        assert_ne!(guid(1), guid(2));
    }
}
