/*
 * time.c — timestamp and duration literals: parsing, formatting, and the
 * checked int64 arithmetic the operators use.
 *
 * Timestamps are int64 microseconds since 1970-01-01T00:00:00Z. Calendar
 * conversion uses the days-from-civil algorithm (proleptic Gregorian
 * calendar, H. Hinnant), so nothing depends on the process's time zone or
 * on timegm().
 *
 * Accepted timestamps (RFC 3339, section 5.6):
 *   YYYY-MM-DD                          that day at 00:00:00Z
 *   YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z       UTC (`t` and `z` accepted too)
 *   YYYY-MM-DDTHH:MM:SS[.f{1,6}]±HH:MM  with an offset (-00:00 is UTC)
 * Choices made where RFC 3339 leaves room or where int64 us needs one:
 *   - more than 6 fractional digits is an error rather than a silent
 *     truncation, so a literal never means something other than it says;
 *   - second 60 (a leap second) is rejected: int64 us since the epoch has no
 *     place for it, and accepting it as :59 or :00 would be a guess;
 *   - years 0000-9999, offsets up to ±23:59;
 *   - a date-time without a zone is an error, never local time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "stdlib/stdlib.h"
#include "stdlib/internal.h"

#define US_PER_SEC INT64_C(1000000)
#define US_PER_MIN (60 * US_PER_SEC)
#define US_PER_HOUR (60 * US_PER_MIN)
#define US_PER_DAY (24 * US_PER_HOUR)
#define US_PER_YEAR (365 * US_PER_DAY)

bool sl_add_overflow(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

bool sl_sub_overflow(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_sub_overflow(a, b, r);
}

/* ---- calendar ------------------------------------------------------------ */

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Floor division and modulo, for timestamps before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t sl_timestamp_year(int64_t us)
{
    int64_t y;
    int m, d;
    civil_from_days(floor_div(us, US_PER_DAY), &y, &m, &d);
    return y;
}

/* ---- timestamp parsing --------------------------------------------------- */

typedef struct scan {
    const char *s;
    size_t len, pos;
} scan;

/* Reads exactly n digits; false if any is missing. */
static bool digits(scan *sc, int n, int *out)
{
    if (sc->len - sc->pos < (size_t)n)
        return false;
    int v = 0;
    for (int k = 0; k < n; k++) {
        char c = sc->s[sc->pos + (size_t)k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    sc->pos += (size_t)n;
    *out = v;
    return true;
}

static bool lit(scan *sc, char c)
{
    if (sc->pos < sc->len && sc->s[sc->pos] == c) {
        sc->pos++;
        return true;
    }
    return false;
}

static bool at_end(const scan *sc)
{
    return sc->pos == sc->len;
}

#define E_SYNTAX "expected a timestamp like 2026-01-01T00:00:00Z or 2026-01-01"

/* date -> YYYY "-" MM "-" DD, validated against the calendar. */
static const char *parse_date(scan *sc, int64_t *days)
{
    int y, m, d;
    if (!digits(sc, 4, &y) || !lit(sc, '-') || !digits(sc, 2, &m) ||
        !lit(sc, '-') || !digits(sc, 2, &d))
        return E_SYNTAX;
    if (m < 1 || m > 12)
        return "month out of range (01-12)";
    if (d < 1 || d > days_in_month(y, m))
        return "day out of range for the month";
    *days = days_from_civil(y, m, d);
    return NULL;
}

/* time -> HH ":" MM ":" SS ["." 1*6DIGIT] */
static const char *parse_time(scan *sc, int64_t *us)
{
    int h, mi, se;
    if (!digits(sc, 2, &h) || !lit(sc, ':') || !digits(sc, 2, &mi) ||
        !lit(sc, ':') || !digits(sc, 2, &se))
        return E_SYNTAX;
    if (h > 23)
        return "hour out of range (00-23)";
    if (mi > 59)
        return "minute out of range (00-59)";
    if (se > 59)
        return "second out of range (00-59; leap seconds are not accepted)";
    int64_t frac = 0;
    if (lit(sc, '.')) {
        int n = 0;
        while (!at_end(sc) && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9') {
            if (++n > 6)
                return "fractional seconds have more than 6 digits";
            frac = frac * 10 + (sc->s[sc->pos++] - '0');
        }
        if (n == 0)
            return "expected digits after the decimal point";
        while (n++ < 6)
            frac *= 10;
    }
    *us = h * US_PER_HOUR + mi * US_PER_MIN + se * US_PER_SEC + frac;
    return NULL;
}

/* zone -> "Z" | ("+" | "-") HH ":" MM; *off_us is local minus UTC. */
static const char *parse_zone(scan *sc, int64_t *off_us)
{
    if (at_end(sc))
        return "timestamp has no time zone: add Z or an offset such as +01:00";
    if (lit(sc, 'Z') || lit(sc, 'z')) {
        *off_us = 0;
        return NULL;
    }
    int sign = lit(sc, '+') ? 1 : lit(sc, '-') ? -1 : 0;
    int h, m;
    if (!sign || !digits(sc, 2, &h) || !lit(sc, ':') || !digits(sc, 2, &m))
        return "expected a time zone: Z or an offset such as +01:00";
    if (h > 23 || m > 59)
        return "time zone offset out of range (-23:59 to +23:59)";
    *off_us = sign * (h * US_PER_HOUR + m * US_PER_MIN);
    return NULL;
}

bool sl_parse_timestamp(const char *s, size_t len, int64_t *us, const char **why)
{
    scan sc = { s, len, 0 };
    int64_t days, tod = 0, off = 0;
    const char *e = parse_date(&sc, &days);
    if (!e && !at_end(&sc)) {
        if (!lit(&sc, 'T') && !lit(&sc, 't'))
            e = E_SYNTAX;
        else if (!(e = parse_time(&sc, &tod)) && !(e = parse_zone(&sc, &off)) && !at_end(&sc))
            e = "unexpected characters after the timestamp";
    }
    if (e) {
        if (why)
            *why = e;
        return false;
    }
    /* Years 0000-9999 keep every step far inside int64. */
    *us = days * US_PER_DAY + tod - off;
    return true;
}

/* ---- durations ----------------------------------------------------------- */

/* duration -> 1*DIGIT ("s" | "m" | "h" | "d" | "y"); no sign, no spaces. */
bool sl_parse_duration(const char *s, size_t len, int64_t *us, const char **why)
{
    const char *e = NULL;
    size_t k = 0;
    int64_t n = 0;
    while (k < len && s[k] >= '0' && s[k] <= '9') {
        if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, s[k] - '0', &n))
            e = "duration is too large";
        k++;
    }
    int64_t unit = 0;
    if (k < len) {
        switch (s[k]) {
        case 's': unit = US_PER_SEC; break;
        case 'm': unit = US_PER_MIN; break;
        case 'h': unit = US_PER_HOUR; break;
        case 'd': unit = US_PER_DAY; break;
        case 'y': unit = US_PER_YEAR; break;
        default: break;
        }
    }
    if (k == 0)
        e = "expected a duration like 30d: digits, then one of s m h d y";
    else if (k == len)
        e = "duration needs a unit: s, m, h, d or y";
    else if (!unit || k + 1 != len)
        e = "unknown duration unit: use one of s m h d y";
    else if (!e && __builtin_mul_overflow(n, unit, &n))
        e = "duration is too large";
    if (e) {
        if (why)
            *why = e;
        return false;
    }
    *us = n;
    return true;
}

/* ---- formatting ---------------------------------------------------------- */

void sl_format_timestamp(int64_t us, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    int64_t days = floor_div(us, US_PER_DAY);
    int64_t rem = us - days * US_PER_DAY;   /* 0 .. US_PER_DAY-1 */
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int h = (int)(rem / US_PER_HOUR), mi = (int)(rem / US_PER_MIN % 60);
    int se = (int)(rem / US_PER_SEC % 60), f = (int)(rem % US_PER_SEC);
    if (f)
        snprintf(buf, cap, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%06dZ", y, m, d, h, mi, se, f);
    else
        snprintf(buf, cap, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi, se);
}

/* The largest unit that divides us exactly, else microseconds: 0 is "0s",
 * 31536000000000 is "1y", 1500000 is "1500000us". */
void sl_format_duration(int64_t us, char *buf, size_t cap)
{
    static const struct { int64_t us; const char *name; } units[] = {
        { US_PER_YEAR, "y" }, { US_PER_DAY, "d" }, { US_PER_HOUR, "h" },
        { US_PER_MIN, "m" }, { US_PER_SEC, "s" },
    };
    if (!buf || cap == 0)
        return;
    if (us == 0) {
        snprintf(buf, cap, "0s");
        return;
    }
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        if (us % units[k].us == 0) {
            snprintf(buf, cap, "%" PRId64 "%s", us / units[k].us, units[k].name);
            return;
        }
    }
    snprintf(buf, cap, "%" PRId64 "us", us);
}
