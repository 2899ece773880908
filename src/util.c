/* util.c: error reporting, checked allocation, clock, and whole-file I/O with atomic writes. */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <dirent.h>

int lpg_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("lpg: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    return -1;
}

void *lpg_calloc(size_t count, size_t size, const char *what)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        lpg_error("out of memory allocating %s (%zu x %zu bytes)", what, count, size);
    return p;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds of CPU time of the given clock (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID). */
static double cpu_seconds(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double process_cpu_seconds(void)
{
    return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

double thread_cpu_seconds(void)
{
    return cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
}

char *read_whole_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        lpg_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        lpg_error("%s: cannot read", path);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[LPG_PATH_MAX + 8];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return lpg_error("%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return lpg_error("%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            close(fd);
            unlink(tmp);
            return lpg_error("%s: write failed: %s", tmp, strerror(err));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int err = errno;
        unlink(tmp);
        return lpg_error("%s: cannot flush: %s", tmp, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return lpg_error("%s: cannot rename to %s: %s", tmp, path, strerror(err));
    }
    return 0;
}

int lpg_name_is_safe(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 63 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        if (!ok)
            return 0;
    }
    return 1;
}

int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

/* mkdir of every prefix of path that ends just before a '/', path being a copy we may edit. */
static int make_prefix_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int failed = mkdir(path, 0755) != 0 && errno != EEXIST;
        *p = '/';
        if (failed)
            return lpg_error("%.*s: cannot create folder: %s", (int)(p - path), path,
                             strerror(errno));
    }
    return 0;
}

int make_parent_dirs(const char *path)
{
    char copy[LPG_PATH_MAX];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return lpg_error("%s: path too long", path);
    return make_prefix_dirs(copy);
}

int make_dirs(const char *dir)
{
    char copy[LPG_PATH_MAX];
    if (snprintf(copy, sizeof copy, "%s/", dir) >= (int)sizeof copy)
        return lpg_error("%s: path too long", dir);
    return make_prefix_dirs(copy);
}

int parse_double(const char *text, double *value)
{
    char *end = NULL;
    errno = 0;
    *value = strtod(text, &end);
    return (end == text || *end != '\0' || errno == ERANGE) ? -1 : 0;
}

int parse_unsigned(const char *text, unsigned long long max, unsigned long long *value)
{
    char *end = NULL;
    errno = 0;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    *value = strtoull(text, &end, 10);
    return (*end != '\0' || errno == ERANGE || *value > max) ? -1 : 0;
}

/* Creates and removes a file in dir: the only sure test that lpg can write there. */
static int probe_writable(const char *dir, const char *key)
{
    char probe[LPG_PATH_MAX + 64];
    if (snprintf(probe, sizeof probe, "%s/.lpg-write-test-%d", dir, (int)getpid()) >=
        (int)sizeof probe)
        return lpg_error("key '%s': %s: path too long", key, dir);
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return lpg_error("key '%s': %s: cannot write there: %s", key, dir, strerror(errno));
    close(fd);
    unlink(probe);
    return 0;
}

int is_leftover_file(const char *name)
{
    static const char *const exts[] = {".csv.tmp", ".md.tmp", ".json.tmp", ".jsonl.tmp", ".lpg.tmp",
                                       ".png.tmp", ".svg.tmp"}; /* the last two: scripts/plot's */
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t n = strlen(exts[i]);
        if (len > n && strcmp(name + len - n, exts[i]) == 0)
            return 1;
    }
    return strncmp(name, ".lpg-write-test-", 16) == 0; /* probe_writable's */
}

int check_output_dir(const char *dir, const char *key)
{
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return lpg_error("key '%s': %s is a file, not a folder", key, dir);
    if (make_dirs(dir) || probe_writable(dir, key))
        return -1;
    DIR *d = opendir(dir); /* .tmp files a killed run left behind */
    char path[LPG_PATH_MAX + 300];
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d))
        if (is_leftover_file(e->d_name) &&
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            unlink(path);
    if (d)
        closedir(d);
    return 0;
}

int check_output_file(const char *path, const char *key)
{
    struct stat st;
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
        return lpg_error("key '%s': %s is a folder; expected a file name", key, path);
    if (make_parent_dirs(path))
        return -1;
    char dir[LPG_PATH_MAX], tmp[LPG_PATH_MAX + 8];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path + (slash == path)) : 1,
             slash ? path : ".");
    if (probe_writable(dir, key))
        return -1;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) < (int)sizeof tmp)
        unlink(tmp); /* left by a killed run */
    return 0;
}
