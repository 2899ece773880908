/* thread_pool.h: the one way lpg starts worker threads (meta-train, ES, train and eval). The
 * work is a function every thread runs on one shared argument, taking items from a queue in
 * it until none is left; which thread takes which item never changes a number. */
#ifndef LPG_THREAD_POOL_H
#define LPG_THREAD_POOL_H

#include <pthread.h>

#define POOL_MAX_THREADS 256

typedef struct {
    pthread_t ids[POOL_MAX_THREADS];
    int started;
} ThreadPool;

/* Starts up to count (at most POOL_MAX_THREADS) threads running work(arg). Returns how many
 * started; after a failure it reports it and starts no more. */
int pool_start(ThreadPool *pool, int count, void *(*work)(void *), void *arg);

/* Waits for every thread pool_start started. */
void pool_join(ThreadPool *pool);

/* Runs work(arg) on `threads` threads: threads - 1 new ones and the caller's, then waits for
 * them. The caller's run also does what a thread that failed to start would have done, so the
 * work is finished either way (the queue in arg must allow that). */
void pool_run(int threads, void *(*work)(void *), void *arg);

#endif
