/* dist.h: running one command as several processes (MPI ranks). The plain build has a world of
 * one rank and no MPI dependency; `make mpi` builds build/lpg-mpi with -DLPG_MPI, where these
 * calls go to MPI. Items (lifetimes, evaluation jobs) are split across ranks in contiguous blocks,
 * so rank order is item order and anything gathered in rank order is in item order. Every call
 * below except dist_rank, dist_size, dist_block, dist_split_by_cost, dist_owns and
 * dist_collectives_done is collective: all ranks make it together. */
#ifndef LPG_DIST_H
#define LPG_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Starts MPI (once per process, before anything else); a no-op in the plain build. Returns 0,
 * or -1 after reporting. */
int dist_init(int *argc, char ***argv);

/* Ends the process's part: with rc != 0 on a rank of a world of more than one, prints which rank
 * failed and aborts the whole job (the other ranks may be waiting for it); otherwise finalizes.
 * Returns rc. */
int dist_finish(int rc);

int dist_rank(void);
int dist_size(void);

/* The block [*first, *end) of n items that rank owns. */
void dist_block(int n, int rank, int *first, int *end);

/* Contiguous blocks by cost: the block [*first, *end) of part `part` when n items of positive
 * cost[i] are split into `parts` contiguous blocks of nearly equal total cost (an item goes to
 * the block its cost's midpoint falls in, so a block's total is off by at most one item's cost).
 * Blocks are in item order and may be empty; the same costs give the same blocks everywhere. */
void dist_split_by_cost(const double *cost, int n, int parts, int part, int *first, int *end);

/* True when this rank owns item i of n. */
int dist_owns(int n, int i);

/* Adds values [n] over every rank, element by element, in place (MPI_Allreduce with MPI_SUM).
 * Integer sums are exact, so the result does not depend on the order in which the ranks' values
 * meet. Returns 0, or -1 after reporting. */
int dist_allreduce_sum(int64_t *values, size_t n);

/* Concatenates every rank's bytes in rank order on rank 0: *all (malloc'd, the caller frees) and
 * *all_len; other ranks get NULL and 0. Returns 0, or -1 after reporting. */
int dist_gather_bytes(const void *mine, size_t len, unsigned char **all, size_t *all_len);

/* Says that every rank has passed the command's last collective call: a non-zero rc given to
 * dist_finish afterwards is the command's own result (some runs failed, a file could not be
 * written), not a failure of this rank, so the process finalizes and exits with it instead of
 * ending the job. */
void dist_collectives_done(void);

/* True on every rank when flag is true on any rank (e.g. a stop request seen by some ranks). */
int dist_any(int flag);

#endif
