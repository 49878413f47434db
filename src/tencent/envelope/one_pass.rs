//! The success path of the envelope in one pass over the bytes: `R` is read from the fields
//! of `Response` while `RequestId` and `Error` are taken out on the way, so a page of 100
//! instances is parsed once instead of once for the head and once for the content
//! (sim_pages benchmark, issue 11). Anything unusual — an `Error`, no `RequestId`, a body
//! that does not fit `R` — returns `None`, and the careful two-pass reader decides.

use std::marker::PhantomData;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess,
    Visitor,
};
use serde::{Deserialize, forward_to_deserialize_any};

/// `R` and the `RequestId` of a successful answer, or `None` (see the module docs).
pub(super) fn success<R: DeserializeOwned>(body: &[u8]) -> Option<(R, String)> {
    // UTF-8 is checked once for the whole body: read from a `&str`, serde_json then skips the
    // check it makes on every string read from bytes (a twentieth of the client's CPU on a
    // page of 100 instances). A body that is not UTF-8 is not valid JSON either; the careful
    // reader says so.
    let text = std::str::from_utf8(body).ok()?;
    let outer: Outer<R> = serde_json::from_str(text).ok()?;
    let fields = outer.response;
    match (fields.error, fields.request_id) {
        (false, Some(id)) => Some((fields.content, id)),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(bound = "R: DeserializeOwned")]
struct Outer<R> {
    #[serde(rename = "Response")]
    response: Fields<R>,
}

struct Fields<R> {
    content: R,
    request_id: Option<String>,
    error: bool,
}

impl<'de, R: DeserializeOwned> Deserialize<'de> for Fields<R> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FieldsVisitor(PhantomData))
    }
}

struct FieldsVisitor<R>(PhantomData<R>);

impl<'de, R: DeserializeOwned> Visitor<'de> for FieldsVisitor<R> {
    type Value = Fields<R>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the `Response` object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Fields<R>, A::Error> {
        let mut taken = TakeOut {
            map,
            request_id: None,
            error: false,
        };
        let content = R::deserialize(Remaining(&mut taken))?;
        // `R` may stop reading before the end (a derived struct reads to the end, but a
        // hand-written one need not): the envelope's own fields may still follow.
        while de::MapAccess::next_key::<IgnoredAny>(&mut taken)?.is_some() {
            de::MapAccess::next_value::<IgnoredAny>(&mut taken)?;
        }
        Ok(Fields {
            content,
            request_id: taken.request_id,
            error: taken.error,
        })
    }
}

/// The `Response` object's entries minus `RequestId` and `Error`, which it keeps aside.
struct TakeOut<A> {
    map: A,
    request_id: Option<String>,
    error: bool,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TakeOut<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<Key<'de>>()? {
            match key.as_str() {
                "RequestId" => self.request_id = self.map.next_value::<Option<String>>()?,
                "Error" => {
                    self.map.next_value::<IgnoredAny>()?;
                    self.error = true;
                }
                _ => {
                    return match key {
                        Key::Borrowed(k) => seed.deserialize(k.into_deserializer()).map(Some),
                        Key::Owned(k) => seed.deserialize(k.into_deserializer()).map(Some),
                    };
                }
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// Hands the remaining entries to `R` as a map (or struct).
struct Remaining<'a, A>(&'a mut TakeOut<A>);

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Remaining<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.0)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// A key, borrowed from the body when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(k) => k,
            Key::Owned(k) => k,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Page {
        total_count: u64,
        #[serde(default)]
        names: Vec<String>,
    }

    #[test]
    fn reads_the_content_and_takes_out_the_request_id_wherever_it_stands() {
        for body in [
            r#"{"Response":{"TotalCount":2,"Names":["a","b\"c"],"RequestId":"r-1"}}"#,
            r#"{"Response":{"RequestId":"r-1","TotalCount":2,"Names":["a","b\"c"]}}"#,
            r#"{"Response":{"Tot\u0061lCount":2,"Unknown":{"x":[1]},"Names":["a","b\"c"],"RequestId":"r-1"}}"#,
        ] {
            let (page, id) = success::<Page>(body.as_bytes()).expect(body);
            assert_eq!(page.total_count, 2, "{body}");
            assert_eq!(page.names, ["a", "b\"c"]);
            assert_eq!(id, "r-1");
        }
    }

    #[test]
    fn leaves_errors_missing_ids_and_odd_bodies_to_the_careful_reader() {
        for body in [
            // Every field of the content has a default: only `Error` tells it failed.
            r#"{"Response":{"Error":{"Code":"InvalidParameter","Message":"m"},"RequestId":"r-1"}}"#,
            r#"{"Response":{"TotalCount":2}}"#,
            r#"{"Response":{"TotalCount":"two","RequestId":"r-1"}}"#,
            r#"{"Response":{"TotalCount":2,"RequestId":7}}"#,
            r#"{"Response":[]}"#,
            r#"{"Other":{}}"#,
            "not json",
        ] {
            #[derive(Debug, Deserialize)]
            #[serde(rename_all = "PascalCase")]
            struct Lenient {
                #[serde(default)]
                #[allow(dead_code)]
                total_count: u64,
            }
            if body.contains("Error") {
                assert!(success::<Lenient>(body.as_bytes()).is_none(), "{body}");
            } else {
                assert!(success::<Page>(body.as_bytes()).is_none(), "{body}");
            }
        }
    }
}
