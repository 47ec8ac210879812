//! Numbers as the `numeric` operator and numeric `anything-but` compare them: exactly, as
//! value × 10^6, within ±5.0e9 (AWS's documented precision and range).

use serde_json::Number;

/// `numeric` range limit, ±5.0e9, scaled by 10^6 (six decimal places).
const NUMERIC_LIMIT: i128 = 5_000_000_000 * SCALE;
const SCALE: i128 = 1_000_000;

/// A JSON number as value × 10^6 = `floor` + a fraction in [0, 1), which is zero when `exact`.
/// `None` outside ±5.0e9.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scaled {
    pub(super) floor: i128,
    pub(super) exact: bool,
}

impl Scaled {
    /// `number` scaled, or `None` when it is outside ±5.0e9.
    pub(super) fn of(number: &Number) -> Option<Scaled> {
        let whole = number
            .as_u64()
            .map(i128::from)
            .or_else(|| number.as_i64().map(i128::from));
        if let Some(whole) = whole {
            let floor = whole.checked_mul(SCALE)?;
            return (floor.abs() <= NUMERIC_LIMIT).then_some(Scaled { floor, exact: true });
        }
        let float = number.as_f64()?;
        if !float.is_finite() || float.abs() > 5.0e9 {
            return None;
        }
        // The shortest decimal that reads back as this float, e.g. `3.018e2`: the number as it
        // was most likely written, and exactly representable in decimal.
        let text = format!("{float:e}");
        let (mantissa, exponent) = text.split_once('e')?;
        let exponent: i32 = exponent.parse().ok()?;
        let (negative, mantissa) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa),
        };
        let (int_digits, frac_digits) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits: u128 = format!("{int_digits}{frac_digits}").parse().ok()?;
        let shift = exponent - i32::try_from(frac_digits.len()).ok()? + 6;
        let (magnitude, remainder) = if shift >= 0 {
            (digits.checked_mul(10u128.checked_pow(shift.unsigned_abs())?)?, false)
        } else {
            match 10u128.checked_pow(shift.unsigned_abs()) {
                Some(divisor) => {
                    let quotient = digits / divisor;
                    (quotient, quotient * divisor != digits)
                }
                None => (0, digits != 0),
            }
        };
        let magnitude = i128::try_from(magnitude).ok()?;
        let floor = if negative {
            -magnitude - i128::from(remainder)
        } else {
            magnitude
        };
        (floor.abs() <= NUMERIC_LIMIT).then_some(Scaled {
            floor,
            exact: !remainder,
        })
    }

    /// Whether the number is exactly `bound` (value × 10^6).
    pub(super) fn equals(self, bound: i128) -> bool {
        self.exact && self.floor == bound
    }

    /// Whether the number lies above a lower bound (`(bound, inclusive)`).
    pub(super) fn above(self, (bound, inclusive): (i128, bool)) -> bool {
        self.floor > bound || (self.floor == bound && (inclusive || !self.exact))
    }

    /// Whether the number lies below an upper bound (`(bound, inclusive)`).
    pub(super) fn below(self, (bound, inclusive): (i128, bool)) -> bool {
        self.floor < bound || (inclusive && self.equals(bound))
    }
}
