/* util.h: error reporting, checked allocation and wall-clock time shared by every module.
 * Library code reports through lpg_error() and returns an error code; only commands exit. */
#ifndef LPG_UTIL_H
#define LPG_UTIL_H

#include <stddef.h>

#define LPG_VERSION "0.1.0"
#define LPG_PATH_MAX 512

/* Prints "lpg: <message>\n" to stderr. Always returns -1 so callers can `return lpg_error(...)`. */
int lpg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* calloc that reports what it was allocating on failure; returns NULL then. Caller frees. */
void *lpg_calloc(size_t count, size_t size, const char *what);

/* Seconds since an arbitrary fixed point (monotonic clock). */
double now_seconds(void);

/* CPU seconds used so far by the whole process, and by the calling thread (0 if unknown). */
double process_cpu_seconds(void);
double thread_cpu_seconds(void);

/* Reads a whole file into a NUL-terminated buffer the caller frees; sets *len when len is
 * not NULL. Returns NULL (after reporting) when the file cannot be read. */
char *read_whole_file(const char *path, size_t *len);

/* Writes len bytes to path atomically: to "<path>.tmp" first, fsync, then rename over path.
 * A failed write leaves any old file at path untouched. Returns 0 or -1 (reported). */
int write_file_atomic(const char *path, const void *data, size_t len);

/* Creates the folder dir and every folder above it that does not exist yet (mkdir -p).
 * Returns 0 or -1 (reported). */
int make_dirs(const char *dir);

/* Creates the folders above the file path that do not exist yet. Returns 0 or -1 (reported). */
int make_parent_dirs(const char *path);

/* Reads all of text as one number (strtod syntax). Returns 0, or -1 (not reported). */
int parse_double(const char *text, double *value);

/* Reads all of text as a decimal integer in [0, max]. Returns 0, or -1 (not reported). */
int parse_unsigned(const char *text, unsigned long long max, unsigned long long *value);

/* True when name is safe as one component of a file name and inside JSON or CSV without
 * quoting: 1 to 63 of letters, digits, '_', '-' and '.', not starting with '.'. Names read
 * from files (environment names) must pass before they name output files. */
int lpg_name_is_safe(const char *name);

/* Before any work: creates the output folder dir (mkdir -p), checks that it is a folder lpg
 * can write in (by creating and removing a probe file) and removes what a killed run left
 * (is_leftover_file). Returns 0 or -1 (reported, naming key and dir). */
int check_output_dir(const char *dir, const char *key);

/* True for a file name lpg leaves behind only when killed: "<name>.<ext>.tmp" with an extension
 * it writes (write_file_atomic's), or the write probe of check_output_dir. */
int is_leftover_file(const char *name);

/* Before any work: checks that the output file path is not a folder, creates the folders above
 * it, checks that a file can be written there, and removes a <path>.tmp a killed run left.
 * Returns 0 or -1 (reported, naming key and path). */
int check_output_file(const char *path, const char *key);

/* True when argv[1..argc) holds -h or --help (commands print their usage then). */
int wants_help(int argc, char **argv);

#endif
