/* json_key — the canonical form of a JSON value, so that a record keyed by
 * a member of its JSON value (group.by = json:PATH) lands in the same task
 * whichever way equal values are written: "a\u0062" and "ab", 1, 1.0 and
 * 1e0, {"a":1,"b":2} and { "b" : 2, "a" : 1 }.
 *
 * The rule (README, State → Repartition):
 *  - a string is its content decoded to UTF-8, without quotes (so a string
 *    without escapes keys as it always did; the string "1" and the number 1
 *    share a key);
 *  - a number is its exact decimal value, written as ECMAScript's
 *    Number::toString lays it out: "-0" is "0"; an integer of up to 21
 *    digits is its digits ("1.0", "1e2" and "100.00" are "1" and "100");
 *    a fraction with its point within 21 digits is plain decimal ("12.50"
 *    is "12.5", "1e-3" is "0.001" down to 6 zeros after the point); others
 *    are "d.ddde+N" / "d.ddde-N" ("1e21", "1.5e-7"). Values are exact
 *    decimals, never rounded through a double: 0.1 and 0.10 are one key,
 *    0.30000000000000004 and 0.3 are two. Exponents beyond +-10^15 saturate;
 *  - true, false and null as written;
 *  - an object or array is serialized without whitespace, its strings
 *    quoted with only '"', '\' and control characters escaped (\b \f \n \r
 *    \t, else \u00xx) and everything else as UTF-8, its numbers as above,
 *    and an object's members sorted by the bytes of "name":value.
 */
#ifndef WEIR_SERDE_JSON_KEY_H
#define WEIR_SERDE_JSON_KEY_H

#include <stddef.h>

#include <weir/json.h>

/* The canonical key of `v`, a value weir_json_find found (and checked), in
 * *key and *len: valid until this thread's next call. Returns 0, or -1 when
 * memory ran out (then the value's text as written, with a warning). */
int weir_json_key(const weir_json_value_t *v, const void **key, size_t *len);

#endif
