/* test_thread_pool.c: thread_pool.h: every item of a shared queue is done exactly once, by the
 * caller alone or with the threads it starts, and pool_start's threads are all joined. */
#include <stdatomic.h>

#include "test.h"
#include "thread_pool.h"

enum { ITEMS = 1000 };

typedef struct {
    atomic_int next;     /* the next item to take */
    atomic_int done[ITEMS];
    atomic_int workers;  /* calls of take_items */
} Queue;

static void *take_items(void *arg)
{
    Queue *q = arg;
    atomic_fetch_add(&q->workers, 1);
    for (int i; (i = atomic_fetch_add(&q->next, 1)) < ITEMS;)
        atomic_fetch_add(&q->done[i], 1);
    return NULL;
}

static void queue_reset(Queue *q)
{
    atomic_store(&q->next, 0);
    atomic_store(&q->workers, 0);
    for (int i = 0; i < ITEMS; i++)
        atomic_store(&q->done[i], 0);
}

static int each_item_once(Queue *q)
{
    for (int i = 0; i < ITEMS; i++)
        if (atomic_load(&q->done[i]) != 1)
            return 0;
    return 1;
}

TEST(pool_run_does_every_item_once_on_any_thread_count)
{
    static Queue q;
    const int counts[] = {1, 2, 5};
    for (int k = 0; k < 3; k++) {
        queue_reset(&q);
        pool_run(counts[k], take_items, &q);
        CHECK(each_item_once(&q));
        CHECK_INT(atomic_load(&q.workers), counts[k]); /* threads - 1 new ones and the caller */
    }
}

TEST(pool_start_caps_the_count_and_join_waits_for_all)
{
    static Queue q;
    queue_reset(&q);
    ThreadPool pool;
    CHECK_INT(pool_start(&pool, 3, take_items, &q), 3);
    pool_join(&pool);
    CHECK(each_item_once(&q));
    CHECK_INT(atomic_load(&q.workers), 3);
    CHECK_INT(pool.started, 0);
    queue_reset(&q);
    CHECK_INT(pool_start(&pool, POOL_MAX_THREADS + 5, take_items, &q), POOL_MAX_THREADS);
    pool_join(&pool);
    CHECK(each_item_once(&q));
}
