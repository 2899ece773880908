/* test_dist.c: the one-rank side of dist.h (what build/lpg and the test binary link) and the
 * checkpoint appends rank 0 uses to collect every rank's lifetimes; tests/test_mpi.sh runs
 * build/lpg-mpi on several ranks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "dist.h"
#include "quiet_stderr.h"
#include "test.h"

#define DIST_CKPT "build/test_dist.ckpt"

TEST(dist_one_rank_owns_every_item)
{
    CHECK_INT(dist_rank(), 0);
    CHECK_INT(dist_size(), 1);
    int first = -1, end = -1;
    dist_block(7, 0, &first, &end);
    CHECK_INT(first, 0);
    CHECK_INT(end, 7);
    CHECK(dist_owns(7, 0) && dist_owns(7, 6));
    CHECK(!dist_owns(7, 7) && !dist_owns(7, -1));
    CHECK_INT(dist_any(0), 0);
    CHECK_INT(dist_any(5), 1);
    unsigned char *all = NULL;
    size_t len = 0;
    REQUIRE(dist_gather_bytes("abc", 3, &all, &len) == 0);
    CHECK_INT(len, 3);
    CHECK(memcmp(all, "abc", 3) == 0);
    free(all);
    CHECK_INT(dist_finish(3), 3);
}

/* Blocks by cost: contiguous, covering every item once, in order, each within one item's cost
 * of an equal share; equal costs split as dist_block does. */
TEST(dist_split_by_cost_balances_contiguous_blocks)
{
    const double cost[6] = {4, 1, 1, 1, 1, 4}; /* total 12: 4 each for 3 parts */
    int first[3], end[3];
    for (int p = 0; p < 3; p++)
        dist_split_by_cost(cost, 6, 3, p, &first[p], &end[p]);
    CHECK_INT(first[0], 0);
    CHECK_INT(end[0], 1);
    CHECK_INT(first[1], 1);
    CHECK_INT(end[1], 5);
    CHECK_INT(first[2], 5);
    CHECK_INT(end[2], 6);
    /* More parts than items: some are empty, still in order and covering everything. */
    int at = 0;
    for (int p = 0; p < 8; p++) {
        int f, e;
        dist_split_by_cost(cost, 6, 8, p, &f, &e);
        CHECK_INT(f, at);
        CHECK(e >= f);
        at = e;
    }
    CHECK_INT(at, 6);
    /* One part owns everything; equal costs give the same blocks as dist_block's arithmetic. */
    int f, e;
    dist_split_by_cost(cost, 6, 1, 0, &f, &e);
    CHECK(f == 0 && e == 6);
    const double flat[7] = {1, 1, 1, 1, 1, 1, 1};
    dist_split_by_cost(flat, 7, 2, 0, &f, &e);
    CHECK(f == 0 && e == 3);
    dist_split_by_cost(flat, 7, 2, 1, &f, &e);
    CHECK(f == 3 && e == 7);
}

/* Sections gathered from another writer read back as if added directly, in the same bytes. */
TEST(checkpoint_appended_sections_match_direct_adds)
{
    int64_t counters[3] = {4, -2, 9};
    real theta[5] = {1, -2, 3.5, 0, 7};
    CheckpointWriter direct, part, joined;
    checkpoint_writer_init(&direct);
    checkpoint_writer_init(&part);
    checkpoint_writer_init(&joined);
    int rc = checkpoint_add_text(&direct, "head", "x");
    rc |= checkpoint_add_int64(&direct, "life1_counters", counters, 3);
    rc |= checkpoint_add_real(&direct, "life1_theta", theta, 5);
    rc |= checkpoint_add_int64(&part, "life1_counters", counters, 3);
    rc |= checkpoint_add_real(&part, "life1_theta", theta, 5);
    rc |= checkpoint_add_text(&joined, "head", "x");
    rc |= checkpoint_add_sections(&joined, part.data, part.len);
    REQUIRE(rc == 0);
    CHECK_INT(joined.len, direct.len);
    CHECK(memcmp(joined.data, direct.data, direct.len) == 0);
    REQUIRE(checkpoint_write(&joined, DIST_CKPT) == 0);
    Checkpoint ck;
    REQUIRE(checkpoint_open(&ck, DIST_CKPT) == 0);
    real back[5];
    CHECK(checkpoint_get_real(&ck, "life1_theta", back, 5) == 0);
    CHECK_NEAR(back[2], 3.5, 0);
    checkpoint_close(&ck);
    /* Bytes that do not parse as whole sections are refused and the writer refuses to write. */
    mute_stderr();
    int bad = checkpoint_add_sections(&joined, part.data, part.len - 1);
    int write_after = checkpoint_write(&joined, DIST_CKPT ".2");
    unmute_stderr();
    CHECK_INT(bad, -1);
    CHECK_INT(write_after, -1);
    checkpoint_writer_free(&direct);
    checkpoint_writer_free(&part);
    checkpoint_writer_free(&joined);
    unlink(DIST_CKPT);
}
