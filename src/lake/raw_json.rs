//! JSON objects read lazily: the keys of one level with their values' raw text, borrowed from
//! the input. A record is scanned once (by `fast_json`, or serde_json when that declines); only
//! the fields a shape reads are decoded, and nested objects (`properties`) are opened only when
//! a field below them is asked for.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Text that borrows from the input unless it held escapes.
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// One object level: keys in order with their values' raw JSON text (checked to be valid JSON).
pub struct RawObject<'a>(pub Vec<(Cow<'a, str>, &'a str)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RawObject<'de>, M::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(32));
                while let Some((key, value)) = map.next_entry::<Text<'de>, &'de RawValue>()? {
                    fields.push((key.0, value.get()));
                }
                Ok(RawObject(fields))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

impl<'a> RawObject<'a> {
    /// Parses one object; anything else (an array, a number...) is an error naming its kind.
    pub fn parse(text: &'a str) -> Result<RawObject<'a>, String> {
        match super::fast_json::object(text) {
            Some(fields) => Ok(RawObject(fields)),
            None => RawObject::parse_with_serde(text),
        }
    }

    /// [`RawObject::parse`] by serde_json alone, which reads every text and explains refusals.
    pub fn parse_with_serde(text: &'a str) -> Result<RawObject<'a>, String> {
        serde_json::from_str::<RawObject<'a>>(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => format!("a JSON {}, not an object", kind_of(text)),
            _ => format!("not valid JSON: {e}"),
        })
    }

    /// The value of `key`: the exact key first, then ignoring ASCII case.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        let exact = self.0.iter().find(|(k, _)| k == key);
        exact.or_else(|| self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))).map(|(_, v)| *v)
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

/// The elements of a JSON array, raw.
pub fn array_elements(text: &str) -> Result<Vec<&str>, String> {
    struct Elements;
    impl<'de> Visitor<'de> for Elements {
        type Value = Vec<&'de RawValue>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON array")
        }
        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Vec<&'de RawValue>, S::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element::<&'de RawValue>()? {
                out.push(v);
            }
            Ok(out)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let elements = deserializer.deserialize_seq(Elements).map_err(|e| format!("not valid JSON: {e}"))?;
    deserializer.end().map_err(|e| format!("not valid JSON: {e}"))?;
    Ok(elements.into_iter().map(RawValue::get).collect())
}

/// What a raw value becomes as text: strings unescaped, `null` nothing, anything else (numbers,
/// booleans, objects, arrays) its JSON text as written.
pub fn as_text(text: &str) -> Result<Option<Cow<'_, str>>, String> {
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<Text>(text).map(|t| Some(t.0)).map_err(|e| e.to_string()),
        Some(b'n') => Ok(None),
        _ => Ok(Some(Cow::Borrowed(text))),
    }
}

/// The JSON kind of raw text, for messages.
pub fn kind_of(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'"') => "string",
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_raw_values_and_forgive_key_case() {
        let text = r#"{"time":"t","Level":4,"properties":{"appId":"a\u0041","x":[1, 2]},"e\"k":null}"#;
        let object = RawObject::parse(text).unwrap();
        assert_eq!(object.get("level"), Some("4"));
        let properties = RawObject::parse(object.get("properties").unwrap()).unwrap();
        assert_eq!(as_text(properties.get("appId").unwrap()).unwrap().as_deref(), Some("aA"));
        assert_eq!(as_text(properties.get("x").unwrap()).unwrap().as_deref(), Some("[1, 2]"));
        assert_eq!(as_text(object.get("e\"k").unwrap()).unwrap(), None);
        assert!(object.has("time") && !object.has("TIME"));
    }

    #[test]
    fn non_objects_and_broken_text_are_told_apart() {
        assert_eq!(RawObject::parse("[1]").err().unwrap(), "a JSON array, not an object");
        assert_eq!(RawObject::parse("5").err().unwrap(), "a JSON number, not an object");
        assert!(RawObject::parse("{\"a\":").err().unwrap().starts_with("not valid JSON"));
        assert_eq!(array_elements("[{\"a\":1}, 2]").unwrap().len(), 2);
    }
}
