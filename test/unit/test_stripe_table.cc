/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Unit tests of the stripe table: parsing, refusals with their messages,
 * the policies' defaults, validity and lookup.
 */

#include "mp_stripe_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

const size_t KiB = 1024;
const size_t MiB = 1024 * 1024;

class test_mp_stripe_table : public ::testing::Test {
protected:
    /* Parse str, expecting success */
    uct_mp_stripe_table_t good(const char *str) {
        uct_mp_stripe_table_t table;
        char errmsg[UCT_MP_STRIPE_ERRMSG_MAX] = "untouched";
        memset(&table, 0xaa, sizeof(table));
        EXPECT_EQ(0, uct_mp_stripe_table_parse(str, &table, errmsg,
                                               sizeof(errmsg)))
            << str << ": " << errmsg;
        return table;
    }

    /* Parse str, expecting refusal with a message containing what, and the
     * table left unchanged */
    void bad(const char *str, const char *what) {
        uct_mp_stripe_table_t table, before;
        char errmsg[UCT_MP_STRIPE_ERRMSG_MAX] = "";
        memset(&table, 0x5a, sizeof(table));
        before = table;
        EXPECT_EQ(-1, uct_mp_stripe_table_parse(str, &table, errmsg,
                                                sizeof(errmsg)))
            << (str ? str : "(null)");
        EXPECT_NE(std::string::npos, std::string(errmsg).find(what))
            << (str ? str : "(null)") << " gave: " << errmsg;
        EXPECT_EQ(0, memcmp(&table, &before, sizeof(table)));
    }
};

TEST_F(test_mp_stripe_table, parses_the_load_balance_default) {
    uct_mp_stripe_table_t t = good("16k:single,inf:stripe");
    ASSERT_EQ(2u, t.count);
    EXPECT_EQ(16 * KiB, t.entries[0].max_size);
    EXPECT_EQ(UCT_MP_STRIPE_SINGLE, t.entries[0].mode);
    EXPECT_EQ((size_t)UCT_MP_STRIPE_SIZE_INF, t.entries[1].max_size);
    EXPECT_EQ(UCT_MP_STRIPE_STRIPE, t.entries[1].mode);
}

TEST_F(test_mp_stripe_table, suffixes_case_and_blanks) {
    uct_mp_stripe_table_t t = good("100:stripe, 1K : Single,4m:STRIPE,"
                                   "2G:single,INF:stripe");
    ASSERT_EQ(5u, t.count);
    EXPECT_EQ(100u, t.entries[0].max_size);
    EXPECT_EQ(KiB, t.entries[1].max_size);
    EXPECT_EQ(UCT_MP_STRIPE_SINGLE, t.entries[1].mode);
    EXPECT_EQ(4 * MiB, t.entries[2].max_size);
    EXPECT_EQ(UCT_MP_STRIPE_STRIPE, t.entries[2].mode);
    EXPECT_EQ((size_t)2 << 30, t.entries[3].max_size);
    EXPECT_EQ((size_t)UCT_MP_STRIPE_SIZE_INF, t.entries[4].max_size);

    t = good("inf:single");
    ASSERT_EQ(1u, t.count);
    EXPECT_EQ(UCT_MP_STRIPE_SINGLE, t.entries[0].mode);
}

TEST_F(test_mp_stripe_table, eight_entries_fit) {
    uct_mp_stripe_table_t t = good("1k:single,2k:stripe,3k:single,4k:stripe,"
                                   "5k:single,6k:stripe,7k:single,inf:stripe");
    EXPECT_EQ((unsigned)UCT_MP_STRIPE_TABLE_MAX, t.count);
    EXPECT_EQ(7 * KiB, t.entries[6].max_size);
}

TEST_F(test_mp_stripe_table, refuses_bad_tables) {
    bad("16k:single,1m:stripe", "last entry must be inf");
    bad("1m:single,16k:stripe,inf:stripe", "not larger");
    bad("16k:single,16k:stripe,inf:stripe", "not larger");
    bad("16x:single,inf:stripe", "suffix");
    bad("16kb:single,inf:stripe", "suffix");
    bad("", "empty");
    bad("   ", "empty");
    bad(NULL, "no table");
    bad("1k:single,2k:stripe,3k:single,4k:stripe,5k:single,6k:stripe,"
        "7k:single,8k:stripe,inf:stripe", "more than 8");
    bad("garbage", "not size:mode");
    bad("16k", "not size:mode");
    bad("16k:fast,inf:stripe", "not single or stripe");
    bad("16k:,inf:stripe", "not single or stripe");
    bad(":single,inf:stripe", "size is empty");
    bad("16k:single,,inf:stripe", "entry 2");
    bad("16k:single,inf:stripe,", "follows the inf entry");
    bad("inf:stripe,32k:single", "follows the inf entry");
    bad("0:single,inf:stripe", "positive");
    bad("-5:single,inf:stripe", "not a number");
    bad("k:single,inf:stripe", "not a number");
    bad("99999999999999999999999:single,inf:stripe", "too large");
    bad("17179869184g:single,inf:stripe", "too large");
    bad("inf:stripe:single", "not single or stripe");
}

TEST_F(test_mp_stripe_table, null_errmsg_is_fine) {
    uct_mp_stripe_table_t t;
    EXPECT_EQ(-1, uct_mp_stripe_table_parse("nonsense", &t, NULL, 0));
    char small[8];
    EXPECT_EQ(-1, uct_mp_stripe_table_parse("nonsense", &t, small,
                                            sizeof(small)));
    EXPECT_EQ(sizeof(small) - 1, strlen(small)); /* truncated, terminated */
    EXPECT_EQ(-1, uct_mp_stripe_table_parse("inf:single", NULL, NULL, 0));
}

TEST_F(test_mp_stripe_table, defaults_and_lookup) {
    uct_mp_stripe_table_t t;
    uct_mp_stripe_table_default(UCT_MP_POLICY_LOAD_BALANCE, &t);
    EXPECT_EQ(UCT_MP_STRIPE_SINGLE, uct_mp_stripe_table_mode(&t, 0));
    EXPECT_EQ(UCT_MP_STRIPE_SINGLE, uct_mp_stripe_table_mode(&t, 16 * KiB));
    EXPECT_EQ(UCT_MP_STRIPE_STRIPE,
              uct_mp_stripe_table_mode(&t, 16 * KiB + 1));

    uct_mp_stripe_table_default(UCT_MP_POLICY_EFFICIENCY, &t);
    EXPECT_EQ(UCT_MP_STRIPE_SINGLE, uct_mp_stripe_table_mode(&t, 256 * KiB));
    EXPECT_EQ(UCT_MP_STRIPE_STRIPE,
              uct_mp_stripe_table_mode(&t, 256 * KiB + 1));
    EXPECT_EQ(UCT_MP_STRIPE_STRIPE, uct_mp_stripe_table_mode(&t, SIZE_MAX));

    uct_mp_stripe_table_default(UCT_MP_POLICY_ACTIVE_BACKUP, &t);
    EXPECT_EQ(UCT_MP_STRIPE_SINGLE, uct_mp_stripe_table_mode(&t, SIZE_MAX));

    EXPECT_EQ(UCT_MP_STRIPE_SINGLE, uct_mp_stripe_table_mode(NULL, 1));
    EXPECT_STREQ("stripe", uct_mp_stripe_mode_str(UCT_MP_STRIPE_STRIPE));
    EXPECT_STREQ("single", uct_mp_stripe_mode_str(UCT_MP_STRIPE_SINGLE));
}

TEST_F(test_mp_stripe_table, validity) {
    uct_mp_stripe_table_t t;
    for (uct_mp_policy_t policy : {UCT_MP_POLICY_ACTIVE_BACKUP,
                                   UCT_MP_POLICY_LOAD_BALANCE,
                                   UCT_MP_POLICY_EFFICIENCY}) {
        uct_mp_stripe_table_default(policy, &t);
        EXPECT_EQ(1, uct_mp_stripe_table_valid(&t)) << policy;
    }
    t = good("1k:single,2k:stripe,3k:single,4k:stripe,"
             "5k:single,6k:stripe,7k:single,inf:stripe");
    EXPECT_EQ(1, uct_mp_stripe_table_valid(&t));

    EXPECT_EQ(0, uct_mp_stripe_table_valid(NULL));

    t = good("16k:single,inf:stripe");
    t.count = 0;
    EXPECT_EQ(0, uct_mp_stripe_table_valid(&t));
    t.count = UCT_MP_STRIPE_TABLE_MAX + 1;
    EXPECT_EQ(0, uct_mp_stripe_table_valid(&t));

    t = good("16k:single,inf:stripe");
    t.entries[1].max_size = 1 * MiB; /* last entry not inf */
    EXPECT_EQ(0, uct_mp_stripe_table_valid(&t));

    t = good("16k:single,32k:stripe,inf:stripe");
    t.entries[1].max_size = 16 * KiB; /* not increasing */
    EXPECT_EQ(0, uct_mp_stripe_table_valid(&t));

    t = good("16k:single,inf:stripe");
    t.entries[0].mode = (uct_mp_stripe_mode_t)7;
    EXPECT_EQ(0, uct_mp_stripe_table_valid(&t));
}

} // namespace
