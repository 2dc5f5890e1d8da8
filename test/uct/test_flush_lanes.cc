/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * uct_mp_flush_lanes() over fake lanes: a lane that took the first pass but
 * has no resources for the flush completion in the second must not let the
 * flush complete before its operations did.
 */

#include <gtest/gtest.h>

extern "C" {
#include <uct/api/uct.h>
#include <ucs/datastruct/queue.h>
#include "../../uct_mp/mp_flush.h"
}

#include <vector>


namespace {

/* A lane with operations in flight: flush(NULL) says INPROGRESS; a flush
 * with a completion is refused busy times, then kept until complete() */
struct fake_lane {
    int              busy = 0;
    int              posts = 0;
    uct_completion_t *comp = nullptr;

    void complete() {
        ASSERT_NE(nullptr, comp);
        uct_completion_t *c = comp;
        comp = nullptr;
        if (--c->count == 0) {
            c->func(c);
        }
    }
};

ucs_status_t fake_flush(void *obj, unsigned flags, uct_completion_t *comp)
{
    fake_lane *lane = static_cast<fake_lane*>(obj);

    if (comp == nullptr) {
        return UCS_INPROGRESS;
    }
    ++lane->posts;
    if (lane->busy > 0) {
        --lane->busy;
        return UCS_ERR_NO_RESOURCE;
    }
    lane->comp = comp;
    return UCS_INPROGRESS;
}

struct user_comp {
    uct_completion_t comp;
    int              calls = 0;
    ucs_status_t     status = UCS_ERR_LAST;

    user_comp() {
        comp.func   = done;
        comp.count  = 1;
        comp.status = UCS_OK;
    }

    static void done(uct_completion_t *self) {
        user_comp *u = ucs_container_of(self, user_comp, comp);
        ++u->calls;
        u->status = self->status;
    }
};

std::vector<fake_lane> lanes(2);

void *lane_obj(void *arg, unsigned i)
{
    return &lanes[i];
}

} // namespace


TEST(flush_lanes, lane_busy_in_second_pass_is_posted_again)
{
    ucs_queue_head_t retry_q;
    user_comp user;

    lanes = std::vector<fake_lane>(2);
    void *objs[2] = {&lanes[0], &lanes[1]};
    lanes[1].busy = 2; /* refuses the completion twice */
    ucs_queue_head_init(&retry_q);

    EXPECT_EQ(UCS_INPROGRESS,
              uct_mp_flush_lanes(objs, 2, fake_flush, 0, &user.comp, &retry_q,
                                 nullptr, nullptr));
    EXPECT_FALSE(ucs_queue_is_empty(&retry_q));

    lanes[0].complete();
    EXPECT_EQ(0, user.calls) << "flush completed with lane 1 still in flight";

    EXPECT_EQ(1, uct_mp_flush_lanes_retry(&retry_q, lane_obj, nullptr));
    EXPECT_EQ(0, uct_mp_flush_lanes_retry(&retry_q, lane_obj, nullptr));
    EXPECT_EQ(3, lanes[1].posts);
    EXPECT_EQ(0, user.calls);

    lanes[1].complete();
    EXPECT_EQ(1, user.calls);
    EXPECT_EQ(UCS_OK, user.status);
}

TEST(flush_lanes, lane_gone_before_retry_completes_flush)
{
    ucs_queue_head_t retry_q;
    user_comp user;

    lanes = std::vector<fake_lane>(2);
    void *objs[2] = {&lanes[0], &lanes[1]};
    lanes[1].busy = 1;
    ucs_queue_head_init(&retry_q);

    EXPECT_EQ(UCS_INPROGRESS,
              uct_mp_flush_lanes(objs, 2, fake_flush, 0, &user.comp, &retry_q,
                                 nullptr, nullptr));
    lanes[0].complete();
    EXPECT_EQ(0, uct_mp_flush_lanes_retry(&retry_q,
                                          [](void*, unsigned) -> void* {
                                              return nullptr;
                                          }, nullptr));
    EXPECT_EQ(1, user.calls);
    EXPECT_TRUE(ucs_queue_is_empty(&retry_q));
}

TEST(flush_lanes, owner_gone_cancels_waiting_lane_flush)
{
    ucs_queue_head_t retry_q;
    user_comp user;

    lanes = std::vector<fake_lane>(2);
    void *objs[2] = {&lanes[0], &lanes[1]};
    lanes[1].busy = 1;
    ucs_queue_head_init(&retry_q);

    EXPECT_EQ(UCS_INPROGRESS,
              uct_mp_flush_lanes(objs, 2, fake_flush, 0, &user.comp, &retry_q,
                                 nullptr, nullptr));
    lanes[0].complete();
    uct_mp_flush_lanes_cancel(&retry_q);
    EXPECT_EQ(1, user.calls);
    EXPECT_EQ(UCS_ERR_CANCELED, user.status);
}
