//! Filters the engine pushes into a JSON scan: "this text field holds one of these values".
//!
//! The engine still applies every filter itself (the push-down is inexact); the scan uses them
//! to leave out records early. Once every record of the run has been parsed and checked by an
//! earlier scan, a record can even be left out from its text alone: a field whose value is not
//! valid JSON on its own (a GUID, say) can only hold `v` if the record's text holds the string
//! token `"v"`, or an escape (`\u`) that could spell it. Finding neither takes a quote search,
//! far cheaper than parsing the record.

use std::collections::HashSet;

use datafusion::logical_expr::{BinaryExpr, Case, Expr, Operator};

/// One pushed-down filter: field `field` of the shape (by index) holds one of `values`.
#[derive(Debug, Clone)]
pub struct ValueFilter {
    pub field: usize,
    values: HashSet<Box<[u8]>>,
    /// The distinct byte lengths of `values`.
    lengths: Vec<usize>,
    /// Every value can be looked for as a string token (see the module comment).
    by_text: bool,
}

impl ValueFilter {
    /// The filter `expr` states over the columns `names`, when it is one this scan understands:
    /// `column = 'v'` or `column IN ('v', ...)`, the column possibly wrapped as
    /// `coalesce(column, '')` (how `signin_logs` makes strings never null).
    pub fn from_expr(expr: &Expr, names: &[&str]) -> Option<ValueFilter> {
        let (subject, list): (&Expr, Vec<&Expr>) = match expr {
            Expr::InList(in_list) if !in_list.negated => (&in_list.expr, in_list.list.iter().collect()),
            Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => match (left.as_ref(), right.as_ref()) {
                (Expr::Literal(..), Expr::Literal(..)) => return None,
                (literal @ Expr::Literal(..), subject) | (subject, literal @ Expr::Literal(..)) => (subject, vec![literal]),
                _ => return None,
            },
            _ => return None,
        };
        let (column, null_as_empty) = column_of(subject)?;
        let field = names.iter().position(|n| *n == column)?;
        let mut values = Vec::with_capacity(list.len());
        for item in list {
            match item {
                Expr::Literal(value, _) => values.push(value.try_as_str()??.to_string()),
                _ => return None,
            }
        }
        // `coalesce(column, '') = ''` also holds for records without the field: not a filter
        // the scan can apply by looking for the value.
        if null_as_empty && values.iter().any(String::is_empty) {
            return None;
        }
        Some(ValueFilter::new(field, values))
    }

    pub fn new(field: usize, values: Vec<String>) -> ValueFilter {
        let by_text = values.iter().all(|v| findable_as_token(v));
        let mut lengths: Vec<usize> = values.iter().map(String::len).collect();
        lengths.sort_unstable();
        lengths.dedup();
        let values = values.into_iter().map(|v| v.into_bytes().into_boxed_slice()).collect();
        ValueFilter { field, values, lengths, by_text }
    }

    /// The values that pass.
    pub fn values(&self) -> impl Iterator<Item = &[u8]> {
        self.values.iter().map(|v| &**v)
    }

    /// Whether a field holding `value` passes.
    pub fn holds(&self, value: Option<&str>) -> bool {
        value.is_some_and(|v| self.values.contains(v.as_bytes()))
    }

    /// Whether a record (or a page of records) with this JSON text could pass; `false` is
    /// certain, `true` is a maybe.
    pub fn may_hold(&self, text: &str) -> bool {
        if !self.by_text {
            return true;
        }
        let bytes = text.as_bytes();
        let found = memchr::memchr_iter(b'"', bytes).any(|quote| {
            let start = quote + 1;
            self.lengths.iter().any(|&len| bytes.get(start + len) == Some(&b'"') && self.values.contains(&bytes[start..start + len]))
        });
        found || memchr::memmem::find(bytes, b"\\u").is_some()
    }
}

/// The column an expression reads, and whether it reads it as `coalesce(column, '')`, either as
/// written or as the planner rewrites it (`CASE WHEN column IS NOT NULL THEN column ELSE '' END`).
fn column_of(expr: &Expr) -> Option<(&str, bool)> {
    let is_empty_text = |e: &Expr| matches!(e, Expr::Literal(value, _) if value.try_as_str() == Some(Some("")));
    match expr {
        Expr::Column(column) => Some((column.name.as_str(), false)),
        Expr::Alias(alias) => column_of(&alias.expr),
        Expr::ScalarFunction(call) if call.func.name() == "coalesce" => match call.args.as_slice() {
            [Expr::Column(column), empty] if is_empty_text(empty) => Some((column.name.as_str(), true)),
            _ => None,
        },
        Expr::Case(Case { expr: None, when_then_expr, else_expr: Some(otherwise) }) if is_empty_text(otherwise) => {
            match when_then_expr.as_slice() {
                [(when, then)] => match (when.as_ref(), then.as_ref()) {
                    (Expr::IsNotNull(tested), Expr::Column(column)) if matches!(tested.as_ref(), Expr::Column(c) if c == column) => {
                        Some((column.name.as_str(), true))
                    }
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// A value a JSON text can only hold as the plain string token `"value"` or through a `\u`
/// escape: no character JSON must or may escape otherwise, and not a JSON value itself (a
/// number or `true` is also read as text, from its bare token).
fn findable_as_token(value: &str) -> bool {
    !value.is_empty()
        && !value.bytes().any(|b| b == b'"' || b == b'\\' || b == b'/' || b < 0x20)
        && serde_json::from_str::<serde::de::IgnoredAny>(value).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::functions::core::expr_fn::coalesce;
    // `col` would fold the names to lower case, as SQL does unquoted ones.
    use datafusion::prelude::{ident as col, lit, when};

    const NAMES: [&str; 3] = ["TimeGenerated", "AppId", "SessionId"];
    const SESSION: &str = "0b6f8b6e-5b1a-4d39-9c1f-2f7e3f0d9a11";

    #[test]
    fn equalities_and_in_lists_on_a_column_are_understood() {
        let filter = ValueFilter::from_expr(&col("SessionId").in_list(vec![lit(SESSION), lit("x")], false), &NAMES).unwrap();
        assert_eq!(filter.field, 2);
        assert!(filter.holds(Some(SESSION)) && filter.holds(Some("x")));
        assert!(!filter.holds(Some("y")) && !filter.holds(None));
        let filter = ValueFilter::from_expr(&lit("a").eq(coalesce(vec![col("AppId"), lit("")])), &NAMES).unwrap();
        assert_eq!(filter.field, 1);
        assert!(filter.holds(Some("a")));
        // The planner's rewrite of that coalesce.
        let case = when(col("AppId").is_not_null(), col("AppId")).otherwise(lit("")).unwrap();
        let filter = ValueFilter::from_expr(&case.eq(lit("a")), &NAMES).unwrap();
        assert_eq!(filter.field, 1);
        let other_column = when(col("AppId").is_not_null(), col("SessionId")).otherwise(lit("")).unwrap();
        assert!(ValueFilter::from_expr(&other_column.eq(lit("a")), &NAMES).is_none());
    }

    #[test]
    fn filters_the_scan_cannot_apply_are_refused() {
        let refused = [
            col("SessionId").in_list(vec![lit("a")], true),
            col("SessionId").in_list(vec![col("AppId")], false),
            col("Other").eq(lit("a")),
            col("SessionId").gt(lit("a")),
            // Also true for records without a SessionId.
            coalesce(vec![col("SessionId"), lit("")]).eq(lit("")),
            when(col("SessionId").is_not_null(), col("SessionId")).otherwise(lit("")).unwrap().eq(lit("")),
            lit("a").eq(lit("a")),
        ];
        for expr in refused {
            assert!(ValueFilter::from_expr(&expr, &NAMES).is_none(), "{expr}");
        }
    }

    #[test]
    fn a_record_without_the_token_is_ruled_out_by_its_text() {
        let filter = ValueFilter::new(2, vec![SESSION.to_string()]);
        let with = format!(r#"{{"AppId":"a","SessionId":"{SESSION}"}}"#);
        let nested = format!(r#"{{"properties":{{"sessionId": "{SESSION}"}}}}"#);
        assert!(filter.may_hold(&with) && filter.may_hold(&nested));
        assert!(!filter.may_hold(r#"{"AppId":"a","SessionId":"0b6f8b6e-5b1a-4d39-9c1f-2f7e3f0d9a12"}"#));
        // Longer or shorter strings that contain it are not it...
        assert!(!filter.may_hold(&format!(r#"{{"SessionId":"{SESSION}0","x":"0{SESSION}"}}"#)));
        // ...but an escape might spell it.
        assert!(filter.may_hold(r#"{"SessionId":"\u0030b6f8b6e-5b1a-4d39-9c1f-2f7e3f0d9a11"}"#));
    }

    #[test]
    fn values_that_could_be_bare_tokens_are_never_ruled_out_by_text() {
        // ResultType 50126 may be written as a number.
        let filter = ValueFilter::new(0, vec!["50126".to_string()]);
        assert!(filter.may_hold(r#"{"ResultType":50126}"#) && filter.may_hold("{}"));
        let filter = ValueFilter::new(0, vec!["a/b".to_string()]);
        assert!(filter.may_hold(r#"{"x":"a\/b"}"#) && filter.may_hold("{}"));
        assert!(ValueFilter::new(0, vec!["true".into()]).may_hold("{}"));
    }
}
