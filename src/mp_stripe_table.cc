/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Stripe table parsing, defaults and lookup: see mp_stripe_table.h.
 */

#include "mp_stripe_table.h"

#include <algorithm>
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

namespace uct_mp {
namespace {

void set_error(char *errmsg, size_t errmsg_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void set_error(char *errmsg, size_t errmsg_len, const char *fmt, ...)
{
    if ((errmsg == nullptr) || (errmsg_len == 0)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_len, fmt, ap);
    va_end(ap);
}

bool is_blank(char c)
{
    return (c == ' ') || (c == '\t');
}

/* s without leading and trailing blanks */
std::string trim(const std::string &s)
{
    size_t begin = 0, end = s.size();
    while ((begin < end) && is_blank(s[begin])) {
        ++begin;
    }
    while ((end > begin) && is_blank(s[end - 1])) {
        --end;
    }
    return s.substr(begin, end - begin);
}

bool iequals(const std::string &a, const char *b)
{
    size_t n = strlen(b);
    if (a.size() != n) {
        return false;
    }
    for (size_t i = 0; i < n; ++i) {
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) {
            return false;
        }
    }
    return true;
}

/* "inf", or digits with an optional k/m/g suffix; 0 and overflow refused.
 * Returns nullptr and fills size, or a reason. */
const char *parse_size(const std::string &text, size_t *size)
{
    if (text.empty()) {
        return "size is empty";
    }
    if (iequals(text, "inf")) {
        *size = UCT_MP_STRIPE_SIZE_INF;
        return nullptr;
    }

    size_t value = 0, i = 0;
    while ((i < text.size()) && isdigit((unsigned char)text[i])) {
        size_t digit = (size_t)(text[i] - '0');
        if (value > (std::numeric_limits<size_t>::max() - digit) / 10) {
            return "size is too large";
        }
        value = (value * 10) + digit;
        ++i;
    }
    if (i == 0) {
        return "size is not a number (use digits with k, m or g, or inf)";
    }

    unsigned shift = 0;
    if (i < text.size()) {
        switch (tolower((unsigned char)text[i])) {
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        default:  return "bad size suffix (use k, m or g)";
        }
        if (i + 1 != text.size()) {
            return "bad size suffix (use k, m or g)";
        }
    }
    if (value > (std::numeric_limits<size_t>::max() >> shift)) {
        return "size is too large";
    }
    value <<= shift;
    if (value == 0) {
        return "size must be positive";
    }
    if (value == UCT_MP_STRIPE_SIZE_INF) {
        return "size is too large";
    }
    *size = value;
    return nullptr;
}

/* Parse entry number index of str and append it to result; -1 with a
 * message when the entry is bad or cannot follow the previous ones. */
int append_entry(const char *str, unsigned index, const std::string &entry,
                 uct_mp_stripe_table_t &result, char *errmsg,
                 size_t errmsg_len)
{
    if (result.count == UCT_MP_STRIPE_TABLE_MAX) {
        set_error(errmsg, errmsg_len,
                  "stripe table '%s': more than %d entries", str,
                  UCT_MP_STRIPE_TABLE_MAX);
        return -1;
    }
    if ((result.count > 0) &&
        (result.entries[result.count - 1].max_size ==
         UCT_MP_STRIPE_SIZE_INF)) {
        set_error(errmsg, errmsg_len,
                  "stripe table '%s': entry %u follows the inf entry, "
                  "which must be last", str, index);
        return -1;
    }

    size_t colon = entry.find(':');
    if (colon == std::string::npos) {
        set_error(errmsg, errmsg_len,
                  "stripe table '%s': entry %u '%s' is not size:mode",
                  str, index, trim(entry).c_str());
        return -1;
    }

    std::string size_text = trim(entry.substr(0, colon));
    std::string mode_text = trim(entry.substr(colon + 1));
    uct_mp_stripe_entry_t parsed;

    const char *reason = parse_size(size_text, &parsed.max_size);
    if (reason != nullptr) {
        set_error(errmsg, errmsg_len,
                  "stripe table '%s': entry %u size '%s': %s", str, index,
                  size_text.c_str(), reason);
        return -1;
    }
    if (iequals(mode_text, "single")) {
        parsed.mode = UCT_MP_STRIPE_SINGLE;
    } else if (iequals(mode_text, "stripe")) {
        parsed.mode = UCT_MP_STRIPE_STRIPE;
    } else {
        set_error(errmsg, errmsg_len,
                  "stripe table '%s': entry %u mode '%s' is not single "
                  "or stripe", str, index, mode_text.c_str());
        return -1;
    }
    if ((result.count > 0) &&
        (parsed.max_size <= result.entries[result.count - 1].max_size)) {
        set_error(errmsg, errmsg_len,
                  "stripe table '%s': entry %u size '%s' is not larger "
                  "than the previous entry's", str, index,
                  size_text.c_str());
        return -1;
    }
    result.entries[result.count++] = parsed;
    return 0;
}

int parse_table(const char *str, uct_mp_stripe_table_t *table, char *errmsg,
                size_t errmsg_len)
{
    if ((str == nullptr) || (table == nullptr)) {
        set_error(errmsg, errmsg_len, "stripe table: no table given");
        return -1;
    }

    std::string all(str);
    if (trim(all).empty()) {
        set_error(errmsg, errmsg_len,
                  "stripe table is empty (expected size:mode,...,inf:mode)");
        return -1;
    }

    uct_mp_stripe_table_t result;
    memset(&result, 0, sizeof(result));

    size_t pos = 0;
    for (unsigned index = 1;; ++index) {
        size_t comma = all.find(',', pos);
        std::string entry = all.substr(pos, (comma == std::string::npos) ?
                                                std::string::npos :
                                                comma - pos);

        if (append_entry(str, index, entry, result, errmsg,
                         errmsg_len) != 0) {
            return -1;
        }
        if (comma == std::string::npos) {
            break;
        }
        pos = comma + 1;
    }

    if (result.entries[result.count - 1].max_size != UCT_MP_STRIPE_SIZE_INF) {
        set_error(errmsg, errmsg_len,
                  "stripe table '%s': the last entry must be inf:mode", str);
        return -1;
    }

    *table = result;
    set_error(errmsg, errmsg_len, "%s", "");
    return 0;
}

/* The mode's bits as an integer: a table filled in C may hold any int there,
 * and loading a value outside the enum's range is undefined in C++ */
int raw_mode(const uct_mp_stripe_entry_t &entry)
{
    int mode;

    static_assert(sizeof(mode) == sizeof(entry.mode), "enum is an int");
    memcpy(&mode, &entry.mode, sizeof(mode));
    return mode;
}

bool table_valid(const uct_mp_stripe_table_t &table)
{
    if ((table.count == 0) || (table.count > UCT_MP_STRIPE_TABLE_MAX)) {
        return false;
    }
    for (unsigned i = 0; i < table.count; ++i) {
        if ((raw_mode(table.entries[i]) != UCT_MP_STRIPE_SINGLE) &&
            (raw_mode(table.entries[i]) != UCT_MP_STRIPE_STRIPE)) {
            return false;
        }
        if ((i > 0) &&
            (table.entries[i].max_size <= table.entries[i - 1].max_size)) {
            return false;
        }
    }
    return table.entries[table.count - 1].max_size == UCT_MP_STRIPE_SIZE_INF;
}

uct_mp_stripe_table_t default_table(uct_mp_policy_t policy)
{
    uct_mp_stripe_table_t table;
    memset(&table, 0, sizeof(table));
    table.count = 2;
    switch (policy) {
    case UCT_MP_POLICY_LOAD_BALANCE:
        table.entries[0] = {16 * 1024, UCT_MP_STRIPE_SINGLE};
        break;
    case UCT_MP_POLICY_EFFICIENCY:
        table.entries[0] = {256 * 1024, UCT_MP_STRIPE_SINGLE};
        break;
    default:
        table.count      = 1;
        table.entries[0] = {UCT_MP_STRIPE_SIZE_INF, UCT_MP_STRIPE_SINGLE};
        return table;
    }
    table.entries[1] = {UCT_MP_STRIPE_SIZE_INF, UCT_MP_STRIPE_STRIPE};
    return table;
}

uct_mp_stripe_mode_t table_mode(const uct_mp_stripe_table_t &table,
                                size_t length)
{
    unsigned count = std::min<unsigned>(table.count, UCT_MP_STRIPE_TABLE_MAX);
    for (unsigned i = 0; i < count; ++i) {
        if (length <= table.entries[i].max_size) {
            return table.entries[i].mode;
        }
    }
    return UCT_MP_STRIPE_SINGLE;
}

} // namespace
} // namespace uct_mp


extern "C" {

const char *uct_mp_stripe_mode_str(uct_mp_stripe_mode_t mode)
{
    switch (mode) {
    case UCT_MP_STRIPE_SINGLE: return "single";
    case UCT_MP_STRIPE_STRIPE: return "stripe";
    default:                   return "invalid";
    }
}

int uct_mp_stripe_table_parse(const char *str, uct_mp_stripe_table_t *table,
                              char *errmsg, size_t errmsg_len)
{
    try {
        return uct_mp::parse_table(str, table, errmsg, errmsg_len);
    } catch (...) { /* std::string allocation */
        uct_mp::set_error(errmsg, errmsg_len, "stripe table: out of memory");
        return -1;
    }
}

void uct_mp_stripe_table_default(uct_mp_policy_t policy,
                                 uct_mp_stripe_table_t *table)
{
    if (table != nullptr) {
        *table = uct_mp::default_table(policy);
    }
}

int uct_mp_stripe_table_valid(const uct_mp_stripe_table_t *table)
{
    return (table != nullptr) && uct_mp::table_valid(*table);
}

uct_mp_stripe_mode_t
uct_mp_stripe_table_mode(const uct_mp_stripe_table_t *table, size_t length)
{
    return (table != nullptr) ? uct_mp::table_mode(*table, length) :
                                UCT_MP_STRIPE_SINGLE;
}

} // extern "C"
