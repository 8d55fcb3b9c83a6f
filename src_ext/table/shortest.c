/* The shortest decimal form of a double (or of a float) that reads back as the same value, laid
 * out as Python's repr() does. Digits by Grisu2 (F. Loitsch, "Printing Floating-Point Numbers
 * Quickly and Accurately with Integers", PLDI 2010): 64-bit integer arithmetic scaled by a cached
 * power of ten (pow10.h). It finds the shortest digits in nearly every case; where it cannot
 * prove that they are, it writes one digit more, which still reads back exactly.
 */
#include <math.h>
#include <string.h>

#include "pow10.h"
#include "table.h"

typedef struct diyfp {
    uint64_t f;
    int e; /* the value is f * 2^e */
} diyfp;

static diyfp multiply(diyfp a, diyfp b) {
    unsigned __int128 product = (unsigned __int128)a.f * b.f;
    uint64_t high = (uint64_t)(product >> 64), low = (uint64_t)product;
    diyfp r = {high + (low >> 63), a.e + b.e + 64}; /* rounded to nearest */
    return r;
}

static diyfp normalize(uint64_t f, int e) {
    int shift = __builtin_clzll(f);
    diyfp r = {f << shift, e - shift};
    return r;
}

/* Scaled by the cached 10^q, the upper boundary's exponent lies in [ALPHA, GAMMA], so that its
 * integer part fits 32 bits and digits come out of 64-bit products. */
#define ALPHA (-60)
#define GAMMA (-32)

static int cached_index(int e) {
    int i = (int)ceil(((ALPHA - 1 - e) * 0.30102999566398114 - FP_POW10_FIRST) / FP_POW10_STEP);
    if (i < 0)
        i = 0;
    if (i >= FP_POW10_COUNT)
        i = FP_POW10_COUNT - 1;
    while (i > 0 && e + fp_pow10_e[i - 1] + 64 >= ALPHA)
        i--;
    while (i < FP_POW10_COUNT - 1 && e + fp_pow10_e[i] + 64 < ALPHA)
        i++;
    return i;
}

static const uint32_t pow10_32[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                    100000000, 1000000000};
static const uint64_t pow10_64[] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
    1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
    100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull, 10000000000000000000ull};

static int digit_count(uint32_t n) {
    int count = 1;
    while (count < 10 && n >= pow10_32[count])
        count++;
    return count;
}

/* Moves the last digit down while that brings the digits closer to the value and keeps them
 * inside the rounding interval. */
static void weed(char *digits, int len, uint64_t delta, uint64_t rest, uint64_t ten_kappa,
                 uint64_t distance) {
    while (rest < distance && delta - rest >= ten_kappa &&
           (rest + ten_kappa < distance || distance - rest > rest + ten_kappa - distance)) {
        digits[len - 1]--;
        rest += ten_kappa;
    }
}

/* The digits of the upper boundary up to where they stay above the lower one (delta below it);
 * *exponent10 gains the position of the last digit. */
static int generate(diyfp value, diyfp upper, uint64_t delta, char *digits, int *exponent10) {
    int shift = -upper.e;
    uint64_t one = (uint64_t)1 << shift;
    uint64_t distance = upper.f - value.f;
    uint32_t integral = (uint32_t)(upper.f >> shift);
    uint64_t fraction = upper.f & (one - 1);
    int kappa = digit_count(integral), len = 0;
    while (kappa > 0) {
        uint32_t unit = pow10_32[kappa - 1];
        digits[len++] = (char)('0' + integral / unit);
        integral %= unit;
        kappa--;
        uint64_t rest = ((uint64_t)integral << shift) + fraction;
        if (rest <= delta) {
            *exponent10 += kappa;
            weed(digits, len, delta, rest, (uint64_t)pow10_32[kappa] << shift, distance);
            return len;
        }
    }
    for (;;) {
        fraction *= 10;
        delta *= 10;
        digits[len++] = (char)('0' + (fraction >> shift));
        fraction &= one - 1;
        kappa--;
        if (fraction < delta) {
            *exponent10 += kappa;
            weed(digits, len, delta, fraction, one, distance * pow10_64[-kappa]);
            return len;
        }
    }
}

/* Digits of significand * 2^exponent (> 0); *exponent10 such that the value reads back from
 * digits * 10^*exponent10. lower_closer: the next value down is half as far as the next up (a
 * power of two above the smallest normal). */
static int grisu2(uint64_t significand, int exponent, int lower_closer, char *digits,
                  int *exponent10) {
    diyfp value = normalize(significand, exponent);
    diyfp upper = normalize((significand << 1) + 1, exponent - 1);
    diyfp lower = lower_closer ? (diyfp){(significand << 2) - 1, exponent - 2}
                               : (diyfp){(significand << 1) - 1, exponent - 1};
    lower.f <<= lower.e - upper.e;
    lower.e = upper.e;
    int i = cached_index(upper.e);
    diyfp scale = {fp_pow10_f[i], fp_pow10_e[i]};
    diyfp v = multiply(value, scale), up = multiply(upper, scale), low = multiply(lower, scale);
    low.f++; /* the products may be off by one unit each way: stay inside */
    up.f--;
    *exponent10 = -(FP_POW10_FIRST + FP_POW10_STEP * i);
    return generate(v, up, up.f - low.f, digits, exponent10);
}

int fp_format_real(double v, int single, char *out) {
    uint64_t significand;
    int exponent, lower_closer, negative, zero;
    if (single) {
        float x = (float)v;
        uint32_t bits, mantissa, biased;
        memcpy(&bits, &x, 4);
        negative = bits >> 31;
        biased = (bits >> 23) & 0xff;
        mantissa = bits & 0x7fffff;
        zero = biased == 0 && mantissa == 0;
        significand = biased ? mantissa | 0x800000u : mantissa;
        exponent = biased ? (int)biased - 150 : -149;
        lower_closer = mantissa == 0 && biased > 1;
    } else {
        uint64_t bits, mantissa, biased;
        memcpy(&bits, &v, 8);
        negative = (int)(bits >> 63);
        biased = (bits >> 52) & 0x7ff;
        mantissa = bits & 0xfffffffffffffull;
        zero = biased == 0 && mantissa == 0;
        significand = biased ? mantissa | 0x10000000000000ull : mantissa;
        exponent = biased ? (int)biased - 1075 : -1074;
        lower_closer = mantissa == 0 && biased > 1;
    }
    char *p = out;
    if (negative)
        *p++ = '-';
    if (zero) {
        memcpy(p, "0.0", 3);
        return (int)(p + 3 - out);
    }
    char digits[24];
    int exponent10;
    int n = grisu2(significand, exponent, lower_closer, digits, &exponent10);
    int point = n + exponent10; /* digits before the decimal point */
    if (point > -4 && point <= 16) {
        if (point <= 0) {
            memcpy(p, "0.", 2);
            p += 2;
            memset(p, '0', (size_t)-point);
            p += -point;
            memcpy(p, digits, (size_t)n);
            p += n;
        } else if (point < n) {
            memcpy(p, digits, (size_t)point);
            p += point;
            *p++ = '.';
            memcpy(p, digits + point, (size_t)(n - point));
            p += n - point;
        } else {
            memcpy(p, digits, (size_t)n);
            p += n;
            memset(p, '0', (size_t)(point - n));
            p += point - n;
            memcpy(p, ".0", 2);
            p += 2;
        }
        return (int)(p - out);
    }
    *p++ = digits[0];
    if (n > 1) {
        *p++ = '.';
        memcpy(p, digits + 1, (size_t)(n - 1));
        p += n - 1;
    }
    int e = point - 1;
    *p++ = 'e';
    *p++ = e < 0 ? '-' : '+';
    if (e < 0)
        e = -e;
    if (e >= 100)
        *p++ = (char)('0' + e / 100);
    *p++ = (char)('0' + e / 10 % 10);
    *p++ = (char)('0' + e % 10);
    return (int)(p - out);
}
