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
