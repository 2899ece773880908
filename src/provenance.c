/* provenance.c: the record of what made an output (see provenance.h). */
#include "provenance.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <gnu/libc-version.h>
#include <cblas.h>

#include "cpu_pin.h"
#include "git_describe.h"
#include "real.h"
#include "util.h"
#include "vecmath.h"

#if defined(__x86_64__) && defined(__GLIBC__) && __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define GLIBC_X86_FEATURES 1
#else
#define GLIBC_X86_FEATURES 0
#endif

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER __VERSION__
#endif

/* The CPU's "model name" from /proc/cpuinfo, into buf; "unknown" when there is none. */
static void cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0 || !strchr(line, ':'))
            continue;
        const char *value = strchr(line, ':') + 1;
        value += strspn(value, " \t");
        snprintf(buf, size, "%.*s", (int)strcspn(value, "\n"), value);
        break;
    }
    fclose(f);
}

/* Which of libmvec's variants lpg's kernels call: glibc picks among them (its ifuncs) from the
 * CPU features it sees, as measured with perf on glibc 2.36 (docs/guide.md, "What reproduces where"). */
static const char *libmvec_variant(void)
{
    if (!VEC_MULTIVERSION)
        return "none (scalar libm: this build has no vector kernels)";
#if GLIBC_X86_FEATURES
    if (vec_level == VEC_AVX512F)
        return CPU_FEATURE_ACTIVE(AVX512DQ)  ? "512-bit, skx"
               : CPU_FEATURE_ACTIVE(AVX512F) ? "512-bit, knl (exp) and avx2_wrapper"
                                             : "512-bit, avx2_wrapper";
    if (vec_level == VEC_AVX2)
        return CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(FMA) ? "256-bit, avx2"
                                                                   : "256-bit, sse_wrapper";
    return CPU_FEATURE_ACTIVE(SSE4_1) ? "128-bit, sse4" : "128-bit, sse_wrapper";
#else
    return "unknown";
#endif
}

static char *record_text;

static void build_record(void)
{
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    const char *pin = cpu_pin_name(), *tunables = getenv("GLIBC_TUNABLES");
    const char *core = openblas_get_corename();
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "lpg", LPG_VERSION);
    cJSON_AddStringToObject(r, "git", LPG_GIT_DESCRIBE);
    cJSON_AddStringToObject(r, "precision", REAL_NAME);
    cJSON_AddStringToObject(r, "compiler", COMPILER);
    cJSON_AddStringToObject(r, "glibc", gnu_get_libc_version());
    cJSON_AddStringToObject(r, "openblas", openblas_get_config());
    cJSON_AddStringToObject(r, "openblas_core", core ? core : "unknown");
    cJSON_AddStringToObject(r, "cpu", cpu);
    if (pin)
        cJSON_AddStringToObject(r, "lpg_cpu", pin);
    else
        cJSON_AddNullToObject(r, "lpg_cpu");
    cJSON_AddStringToObject(r, "lpg_kernels", vec_level_name(vec_level));
    cJSON_AddStringToObject(r, "libmvec", libmvec_variant());
    if (tunables)
        cJSON_AddStringToObject(r, "glibc_tunables", tunables);
    else
        cJSON_AddNullToObject(r, "glibc_tunables");
    record_text = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
}

const char *provenance_text(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_record);
    if (!record_text)
        lpg_error("provenance: out of memory");
    return record_text;
}

cJSON *provenance_json(void)
{
    const char *text = provenance_text();
    cJSON *r = text ? cJSON_Parse(text) : NULL;
    if (text && !r)
        lpg_error("provenance: out of memory");
    return r;
}

int provenance_add_section(CheckpointWriter *w)
{
    const char *text = provenance_text();
    return text ? checkpoint_add_text(w, "provenance", text) : -1;
}

char *provenance_read(const Checkpoint *ck, int *failed)
{
    *failed = 0;
    if (!checkpoint_find(ck, "provenance"))
        return NULL;
    char *text = checkpoint_get_text(ck, "provenance");
    *failed = text == NULL;
    return text;
}

void provenance_print(FILE *out, const char *text)
{
    cJSON *r = cJSON_Parse(text);
    if (!cJSON_IsObject(r)) {
        fprintf(out, "  %s\n", text);
        cJSON_Delete(r);
        return;
    }
    for (const cJSON *item = r->child; item; item = item->next) {
        if (cJSON_IsString(item))
            fprintf(out, "  %s: %s\n", item->string, item->valuestring);
        else if (cJSON_IsNull(item))
            fprintf(out, "  %s: unset\n", item->string);
        else {
            char *value = cJSON_PrintUnformatted(item);
            fprintf(out, "  %s: %s\n", item->string, value ? value : "?");
            free(value);
        }
    }
    cJSON_Delete(r);
}
