/*
 * time_test.c — timestamp and duration literals: exact values, exact error
 * messages, formatting, checked arithmetic.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "stdlib/stdlib.h"

static int64_t ts_ok(const char *s)
{
    int64_t us = 12345;
    const char *why = NULL;
    cr_assert(sl_parse_timestamp(s, strlen(s), &us, &why), "%s: %s", s, why ? why : "");
    return us;
}

static const char *ts_err(const char *s)
{
    int64_t us = 12345;
    const char *why = NULL;
    cr_assert_not(sl_parse_timestamp(s, strlen(s), &us, &why), "%s accepted", s);
    cr_assert_eq(us, 12345, "output written on error");
    cr_assert_not_null(why);
    return why;
}

static int64_t dur_ok(const char *s)
{
    int64_t us = 0;
    const char *why = NULL;
    cr_assert(sl_parse_duration(s, strlen(s), &us, &why), "%s: %s", s, why ? why : "");
    return us;
}

static const char *dur_err(const char *s)
{
    int64_t us = 777;
    const char *why = NULL;
    cr_assert_not(sl_parse_duration(s, strlen(s), &us, &why), "%s accepted", s);
    cr_assert_eq(us, 777);
    cr_assert_not_null(why);
    return why;
}

Test(timestamp, epoch_values)
{
    cr_assert_eq(ts_ok("1970-01-01T00:00:00Z"), 0);
    cr_assert_eq(ts_ok("2026-01-01T00:00:00Z"), INT64_C(1767225600000000));
    cr_assert_eq(ts_ok("2026-01-01"), INT64_C(1767225600000000));
    cr_assert_eq(ts_ok("2000-02-29T00:00:00Z"), INT64_C(951782400000000));
    cr_assert_eq(ts_ok("1969-12-31T23:59:59.999999Z"), -1);
    cr_assert_eq(ts_ok("0001-01-01T00:00:00Z"), INT64_C(-62135596800000000));
    cr_assert_eq(ts_ok("0000-01-01"), INT64_C(-62167219200000000));
    cr_assert_eq(ts_ok("9999-12-31T23:59:59.999999Z"), INT64_C(253402300799999999));
}

Test(timestamp, fractions)
{
    cr_assert_eq(ts_ok("1970-01-01T00:00:00.5Z"), 500000);
    cr_assert_eq(ts_ok("1970-01-01T00:00:00.000001Z"), 1);
    cr_assert_eq(ts_ok("2024-02-29T12:34:56.789Z"), INT64_C(1709210096789000));
    cr_assert_str_eq(ts_err("1970-01-01T00:00:00.1234567Z"),
                     "fractional seconds have more than 6 digits");
    cr_assert_str_eq(ts_err("1970-01-01T00:00:00.Z"),
                     "expected digits after the decimal point");
}

Test(timestamp, offsets)
{
    cr_assert_eq(ts_ok("2026-01-01T01:00:00+01:00"), INT64_C(1767225600000000));
    cr_assert_eq(ts_ok("2025-12-31T19:30:00-05:30"), INT64_C(1767229200000000));
    cr_assert_eq(ts_ok("2026-01-01T00:00:00-00:00"), INT64_C(1767225600000000));
    cr_assert_eq(ts_ok("2026-01-01t00:00:00z"), INT64_C(1767225600000000));
    cr_assert_eq(ts_ok("2026-01-01T00:00:00+23:59"),
                 INT64_C(1767225600000000) - INT64_C(86340000000));
    cr_assert_str_eq(ts_err("2026-01-01T00:00:00+24:00"),
                     "time zone offset out of range (-23:59 to +23:59)");
    cr_assert_str_eq(ts_err("2026-01-01T00:00:00+01:60"),
                     "time zone offset out of range (-23:59 to +23:59)");
    cr_assert_str_eq(ts_err("2026-01-01T00:00:00+0100"),
                     "expected a time zone: Z or an offset such as +01:00");
    cr_assert_str_eq(ts_err("2026-01-01T00:00:00UTC"),
                     "expected a time zone: Z or an offset such as +01:00");
}

Test(timestamp, zoneless_is_an_error)
{
    cr_assert_str_eq(ts_err("2026-01-01T00:00:00"),
                     "timestamp has no time zone: add Z or an offset such as +01:00");
    cr_assert_str_eq(ts_err("2026-01-01T00:00:00.25"),
                     "timestamp has no time zone: add Z or an offset such as +01:00");
}

Test(timestamp, calendar_ranges)
{
    cr_assert_eq(ts_ok("2024-02-29"), INT64_C(1709164800000000));
    cr_assert_str_eq(ts_err("2023-02-29"), "day out of range for the month");
    cr_assert_str_eq(ts_err("1900-02-29"), "day out of range for the month");
    cr_assert_eq(ts_ok("2000-02-29"), INT64_C(951782400000000));
    cr_assert_str_eq(ts_err("2026-04-31"), "day out of range for the month");
    cr_assert_str_eq(ts_err("2026-01-00"), "day out of range for the month");
    cr_assert_str_eq(ts_err("2026-13-01"), "month out of range (01-12)");
    cr_assert_str_eq(ts_err("2026-00-01"), "month out of range (01-12)");
    cr_assert_str_eq(ts_err("2026-01-01T24:00:00Z"), "hour out of range (00-23)");
    cr_assert_str_eq(ts_err("2026-01-01T23:60:00Z"), "minute out of range (00-59)");
    cr_assert_str_eq(ts_err("2016-12-31T23:59:60Z"),
                     "second out of range (00-59; leap seconds are not accepted)");
}

Test(timestamp, syntax_errors)
{
    const char *syn = "expected a timestamp like 2026-01-01T00:00:00Z or 2026-01-01";
    const char *bad[] = { "", "2026", "2026-1-01", "26-01-01", "+2026-01-01", "10000-01-01",
                          "2026-01-01 00:00:00Z", "2026-01-01T00:00Z", "2026-01-01T",
                          "2026/01/01", "2026-01-01T0a:00:00Z", "x" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        cr_assert_str_eq(ts_err(bad[k]), syn, "input %s", bad[k]);
    cr_assert_str_eq(ts_err("2026-01-01T00:00:00Zjunk"),
                     "unexpected characters after the timestamp");
    /* Length is respected: the bytes after len are not read. */
    int64_t us;
    const char *why;
    cr_assert(sl_parse_timestamp("2026-01-01XYZ", 10, &us, &why));
    cr_assert_eq(us, INT64_C(1767225600000000));
}

Test(timestamp, format)
{
    char buf[40];
    sl_format_timestamp(INT64_C(1767225600000000), buf, sizeof buf);
    cr_assert_str_eq(buf, "2026-01-01T00:00:00Z");
    sl_format_timestamp(INT64_C(1709210096789000), buf, sizeof buf);
    cr_assert_str_eq(buf, "2024-02-29T12:34:56.789000Z");
    sl_format_timestamp(-1, buf, sizeof buf);
    cr_assert_str_eq(buf, "1969-12-31T23:59:59.999999Z");
    sl_format_timestamp(INT64_C(-62167219200000000), buf, sizeof buf);
    cr_assert_str_eq(buf, "0000-01-01T00:00:00Z");
    sl_format_timestamp(INT64_C(253402300799999999), buf, sizeof buf);
    cr_assert_str_eq(buf, "9999-12-31T23:59:59.999999Z");
    sl_format_timestamp(0, buf, 5);
    cr_assert_str_eq(buf, "1970");
}

/* Every day of 1600-2400 survives parse -> format -> parse. */
Test(timestamp, round_trip_every_day)
{
    char buf[40];
    int64_t day0 = ts_ok("1600-01-01"), day1 = ts_ok("2400-12-31");
    int64_t step = INT64_C(86400000000);
    int n = 0;
    for (int64_t t = day0; t <= day1; t += step, n++) {
        int64_t back;
        const char *why;
        sl_format_timestamp(t + 3723000001, buf, sizeof buf);
        cr_assert(sl_parse_timestamp(buf, strlen(buf), &back, &why), "%s: %s", buf, why);
        cr_assert_eq(back, t + 3723000001, "%s", buf);
        cr_assert_eq(strncmp(buf + 10, "T01:02:03.000001Z", 17), 0);
    }
    cr_assert_eq(n, 292560);   /* days in 801 Gregorian years: 801 * 365 + 195 */
}

Test(duration, units)
{
    cr_assert_eq(dur_ok("30d"), INT64_C(30) * 86400 * 1000000);
    cr_assert_eq(dur_ok("12h"), INT64_C(12) * 3600 * 1000000);
    cr_assert_eq(dur_ok("7y"), INT64_C(7) * 365 * 86400 * 1000000);
    cr_assert_eq(dur_ok("1m"), INT64_C(60000000));
    cr_assert_eq(dur_ok("45s"), INT64_C(45000000));
    cr_assert_eq(dur_ok("0s"), 0);
    cr_assert_eq(dur_ok("007d"), INT64_C(7) * 86400 * 1000000);
}

Test(duration, overflow)
{
    /* int64 max us is 9223372036854 s: 106751991 days fit, one more does not. */
    cr_assert_eq(dur_ok("106751991d"), INT64_C(106751991) * 86400 * 1000000);
    cr_assert_str_eq(dur_err("106751992d"), "duration is too large");
    cr_assert_eq(dur_ok("292471y"), INT64_C(292471) * 365 * 86400 * 1000000);
    cr_assert_eq(dur_ok("9223372036854s"), INT64_C(9223372036854000000));
    cr_assert_str_eq(dur_err("9223372036855s"), "duration is too large");
    cr_assert_str_eq(dur_err("292472y"), "duration is too large");
    cr_assert_str_eq(dur_err("99999999999999999999999s"), "duration is too large");
}

Test(duration, syntax_errors)
{
    cr_assert_str_eq(dur_err(""), "expected a duration like 30d: digits, then one of s m h d y");
    cr_assert_str_eq(dur_err("d"), "expected a duration like 30d: digits, then one of s m h d y");
    cr_assert_str_eq(dur_err("-5d"), "expected a duration like 30d: digits, then one of s m h d y");
    cr_assert_str_eq(dur_err("+5d"), "expected a duration like 30d: digits, then one of s m h d y");
    cr_assert_str_eq(dur_err("30"), "duration needs a unit: s, m, h, d or y");
    cr_assert_str_eq(dur_err("30w"), "unknown duration unit: use one of s m h d y");
    cr_assert_str_eq(dur_err("30ms"), "unknown duration unit: use one of s m h d y");
    cr_assert_str_eq(dur_err("30d "), "unknown duration unit: use one of s m h d y");
    cr_assert_str_eq(dur_err("1h30m"), "unknown duration unit: use one of s m h d y");
    cr_assert_str_eq(dur_err("30D"), "unknown duration unit: use one of s m h d y");
}

Test(duration, format)
{
    char buf[32];
    struct { int64_t us; const char *want; } cases[] = {
        { 0, "0s" },
        { INT64_C(30) * 86400000000, "30d" },
        { INT64_C(7) * 365 * 86400000000, "7y" },
        { INT64_C(365) * 86400000000, "1y" },
        { INT64_C(366) * 86400000000, "366d" },
        { INT64_C(5400000000), "90m" },
        { INT64_C(43200000000), "12h" },
        { INT64_C(1000000), "1s" },
        { INT64_C(1500000), "1500000us" },
        { 1, "1us" },
        { INT64_C(-86400000000), "-1d" },
        { INT64_MIN, "-9223372036854775808us" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sl_format_duration(cases[k].us, buf, sizeof buf);
        cr_assert_str_eq(buf, cases[k].want);
    }
}

Test(arith, checked)
{
    int64_t r;
    cr_assert(sl_add_overflow(2, 3, &r));
    cr_assert_eq(r, 5);
    cr_assert_not(sl_add_overflow(INT64_MAX, 1, &r));
    cr_assert(sl_add_overflow(INT64_MIN, INT64_MAX, &r));
    cr_assert_eq(r, -1);
    cr_assert(sl_sub_overflow(2, 3, &r));
    cr_assert_eq(r, -1);
    cr_assert_not(sl_sub_overflow(INT64_MIN, 1, &r));
    cr_assert_not(sl_sub_overflow(0, INT64_MIN, &r));
}
