/* thread_pool.c: starting and joining worker threads (see thread_pool.h). */
#include "thread_pool.h"

#include <string.h>

#include "util.h"

int pool_start(ThreadPool *pool, int count, void *(*work)(void *), void *arg)
{
    pool->started = 0;
    if (count > POOL_MAX_THREADS)
        count = POOL_MAX_THREADS;
    while (pool->started < count) {
        int err = pthread_create(&pool->ids[pool->started], NULL, work, arg);
        if (err) {
            lpg_error("cannot start a thread: %s", strerror(err));
            break;
        }
        pool->started++;
    }
    return pool->started;
}

void pool_join(ThreadPool *pool)
{
    for (int t = 0; t < pool->started; t++)
        pthread_join(pool->ids[t], NULL);
    pool->started = 0;
}

void pool_run(int threads, void *(*work)(void *), void *arg)
{
    ThreadPool pool = {.started = 0};
    int extra = threads - 1;
    for (; pool.started < extra && pool.started < POOL_MAX_THREADS; pool.started++)
        if (pthread_create(&pool.ids[pool.started], NULL, work, arg) != 0)
            break; /* the caller's run below finishes the work */
    work(arg);
    pool_join(&pool);
}
