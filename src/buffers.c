/* buffers.c: carving one allocation into buffers from a table of sizes (see buffers.h). */
#include "buffers.h"

#include <string.h>

#include "util.h"

static size_t align_up(size_t offset, size_t size)
{
    return (offset + size - 1) / size * size;
}

size_t buffers_size(const BufferSpec *table, size_t count)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total = align_up(total, table[i].size) + table[i].count * table[i].size;
    return total;
}

void *buffers_alloc(const BufferSpec *table, size_t count, const char *what)
{
    size_t total = buffers_size(table, count);
    char *mem = lpg_calloc(total > 0 ? total : 1, 1, what);
    if (!mem)
        return NULL;
    size_t offset = 0;
    for (size_t i = 0; i < count; i++) {
        offset = align_up(offset, table[i].size);
        void *p = table[i].count > 0 ? mem + offset : NULL;
        memcpy(table[i].ptr, &p, sizeof p); /* *ptr = p, whatever the pointer's type */
        offset += table[i].count * table[i].size;
    }
    return mem;
}
