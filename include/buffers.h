/* buffers.h: one allocation carved into the work buffers of a module, from a table of sizes
 * (as llm.c lays out its parameters), so the total cannot drift from its parts.
 *
 *     BufferSpec table[] = {BUFFER(w->grad, P), BUFFER(w->value, rows), BUFFER(w->action, rows)};
 *     w->mem = buffers_alloc(table, BUFFER_COUNT(table), "what");
 *
 * Buffers follow each other in table order, each aligned to its element size (so a run of
 * real buffers is contiguous), and start zeroed. A buffer of count 0 gets NULL. */
#ifndef LPG_BUFFERS_H
#define LPG_BUFFERS_H

#include <stddef.h>

typedef struct {
    void *ptr;      /* address of the pointer to set (a real **, int32_t **, uint8_t ** ...) */
    size_t count;   /* elements */
    size_t size;    /* bytes per element, a power of two */
} BufferSpec;

#define BUFFER(pointer, count) {&(pointer), (size_t)(count), sizeof *(pointer)}
#define BUFFER_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* The bytes buffers_alloc allocates for table (what the memory estimate adds up). */
size_t buffers_size(const BufferSpec *table, size_t count);

/* Allocates one zeroed block for the buffers of table and sets each pointer to its part.
 * Returns the block (release it with free), or NULL after reporting "what" on failure. */
void *buffers_alloc(const BufferSpec *table, size_t count, const char *what);

#endif
