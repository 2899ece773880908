/* dist.c: ranks of one job (see dist.h): MPI under -DLPG_MPI, a world of one rank otherwise. */
#include "dist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void dist_block(int n, int rank, int *first, int *end)
{
    int size = dist_size();
    *first = (int)((int64_t)n * rank / size);
    *end = (int)((int64_t)n * (rank + 1) / size);
}

/* The block item i falls in: where its cost's midpoint lies in the running total. */
static int cost_owner(double before, double cost, double total, int parts)
{
    int owner = (int)((before + cost / 2) / total * parts);
    return owner < parts - 1 ? owner : parts - 1;
}

void dist_split_by_cost(const double *cost, int n, int parts, int part, int *first, int *end)
{
    double total = 0;
    for (int i = 0; i < n; i++)
        total += cost[i];
    *first = *end = n;
    double before = 0;
    for (int i = 0; i < n; i++) {
        int owner = total > 0 ? cost_owner(before, cost[i], total, parts)
                              : (int)((int64_t)i * parts / n);
        if (owner >= part && *first == n)
            *first = i;
        if (owner > part) {
            *end = i;
            break;
        }
        before += cost[i];
    }
}

int dist_owns(int n, int i)
{
    int first, end;
    dist_block(n, dist_rank(), &first, &end);
    return i >= first && i < end;
}

#ifdef LPG_MPI

#include <limits.h>
#include <mpi.h>

static int world_rank, world_size = 1, collectives_done;

int dist_init(int *argc, char ***argv)
{
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return lpg_error("MPI: cannot start");
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    return 0;
}

int dist_finish(int rc)
{
    if (rc != 0 && world_size > 1 && !collectives_done) {
        fprintf(stderr, "lpg: rank %d of %d failed (its message is above); ending the job\n",
                world_rank, world_size);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    MPI_Finalize();
    return rc;
}

void dist_collectives_done(void) { collectives_done = 1; }
int dist_rank(void) { return world_rank; }
int dist_size(void) { return world_size; }

int dist_allreduce_sum(int64_t *values, size_t n)
{
    for (size_t at = 0; at < n;) { /* MPI counts are int: pieces of at most 2^30 */
        int count = n - at < ((size_t)1 << 30) ? (int)(n - at) : 1 << 30;
        if (MPI_Allreduce(MPI_IN_PLACE, values + at, count, MPI_INT64_T, MPI_SUM,
                          MPI_COMM_WORLD) != MPI_SUCCESS)
            return lpg_error("MPI: summing the meta-gradient over the ranks failed");
        at += (size_t)count;
    }
    return 0;
}

int dist_gather_bytes(const void *mine, size_t len, unsigned char **all, size_t *all_len)
{
    *all = NULL;
    *all_len = 0;
    if (len > INT_MAX)
        return lpg_error("MPI: rank %d has %zu bytes to send, more than one message (2 GiB)",
                         world_rank, len);
    int my_len = (int)len;
    int *counts = lpg_calloc((size_t)world_size * 2, sizeof(int), "MPI gather table");
    if (!counts)
        return -1;
    int *offsets = counts + world_size;
    MPI_Gather(&my_len, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int rc = 0;
    size_t total = 0;
    for (int r = 0; world_rank == 0 && r < world_size; r++) {
        if (total + (size_t)counts[r] > INT_MAX)
            rc = -1;
        offsets[r] = (int)total;
        total += (size_t)counts[r];
    }
    unsigned char *buffer = NULL;
    if (world_rank == 0 && rc == 0)
        buffer = malloc(total ? total : 1);
    /* Every rank must enter the gather; rank 0 reports a failure afterwards. */
    MPI_Gatherv(mine, my_len, MPI_BYTE, buffer, counts, offsets, MPI_BYTE, 0, MPI_COMM_WORLD);
    free(counts);
    if (world_rank != 0)
        return 0;
    if (!buffer)
        return lpg_error("MPI: no memory to gather %zu bytes from the ranks", total);
    *all = buffer;
    *all_len = total;
    return 0;
}

int dist_any(int flag)
{
    int local = flag != 0, any = local;
    MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}

#else /* one rank */

int dist_init(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int dist_finish(int rc) { return rc; }
void dist_collectives_done(void) {}
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }

int dist_allreduce_sum(int64_t *values, size_t n)
{
    (void)values, (void)n;
    return 0;
}

int dist_gather_bytes(const void *mine, size_t len, unsigned char **all, size_t *all_len)
{
    *all = malloc(len ? len : 1);
    *all_len = len;
    if (!*all)
        return lpg_error("no memory to copy %zu bytes", len);
    if (len)
        memcpy(*all, mine, len);
    return 0;
}

int dist_any(int flag) { return flag != 0; }

#endif
