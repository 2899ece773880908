/* cpu_pin.c: LPG_CPU, pinning OpenBLAS's, glibc's and lpg's kernels (see cpu_pin.h). */
#include "cpu_pin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cblas.h>

#include "util.h"
#include "vecmath.h"

#if defined(__x86_64__) && defined(__GLIBC__) && __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define GLIBC_X86_FEATURES 1
#else
#define GLIBC_X86_FEATURES 0
#endif

/* One setting of LPG_CPU: the kernels a machine of that kind picks by itself. */
typedef struct {
    const char *name;         /* LPG_CPU's value */
    const char *blas_core;    /* OPENBLAS_CORETYPE */
    const char *glibc_hwcaps; /* glibc.cpu.hwcaps: features glibc's ifuncs must not use, or NULL */
    VecLevel vec;             /* LPG_VEC */
    const char *needs;        /* the instructions the CPU must run, for messages */
} CpuPin;

static const CpuPin cpu_pins[] = {
    {"avx2", "Haswell", "-AVX512F,-AVX512DQ,-AVX512BW,-AVX512VL,-AVX512CD", VEC_AVX2, "AVX2 and FMA"},
    {"avx512", "SkylakeX", NULL, VEC_AVX512F, "AVX-512 F, DQ, BW and VL"},
};
#define NUM_CPU_PINS (int)(sizeof cpu_pins / sizeof cpu_pins[0])

const char *cpu_pin_name(void)
{
    const char *name = getenv("LPG_CPU");
    return name && name[0] ? name : NULL;
}

/* Whether this CPU runs the pin's kernels. */
static int cpu_runs(const CpuPin *pin)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (pin->vec == VEC_AVX512F)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* Sets variable to value when unset (counting it in *changed); another value is an error. */
static int require_variable(const CpuPin *pin, const char *variable, const char *value,
                            int *changed)
{
    const char *now = getenv(variable);
    if (now && strcmp(now, value) == 0)
        return 0;
    if (now)
        return lpg_error("LPG_CPU=%s sets %s=%s, but it is already %s; unset it or LPG_CPU",
                         pin->name, variable, value, now);
    if (setenv(variable, value, 1) != 0)
        return lpg_error("LPG_CPU=%s: cannot set %s: %s", pin->name, variable, strerror(errno));
    (*changed)++;
    return 0;
}

/* Adds glibc.cpu.hwcaps=<pin's mask> to GLIBC_TUNABLES (a ':'-separated list), unless there;
 * another glibc.cpu.hwcaps is an error. */
static int require_tunable(const CpuPin *pin, int *changed)
{
    static const char key[] = "glibc.cpu.hwcaps=";
    char wanted[256], joined[4096];
    snprintf(wanted, sizeof wanted, "%s%s", key, pin->glibc_hwcaps);
    const char *now = getenv("GLIBC_TUNABLES");
    if (!now || !now[0])
        return require_variable(pin, "GLIBC_TUNABLES", wanted, changed);
    for (const char *item = now; item; item = strchr(item, ':') ? strchr(item, ':') + 1 : NULL) {
        size_t len = strcspn(item, ":");
        if (len == strlen(wanted) && strncmp(item, wanted, len) == 0)
            return 0;
        if (strncmp(item, key, sizeof key - 1) == 0)
            return lpg_error("LPG_CPU=%s sets GLIBC_TUNABLES's %s, but it already holds %.*s; "
                             "take that out or unset LPG_CPU", pin->name, wanted, (int)len, item);
    }
    if ((size_t)snprintf(joined, sizeof joined, "%s:%s", now, wanted) >= sizeof joined)
        return lpg_error("LPG_CPU=%s: GLIBC_TUNABLES is too long to add %s", pin->name, wanted);
    if (setenv("GLIBC_TUNABLES", joined, 1) != 0)
        return lpg_error("LPG_CPU=%s: cannot set GLIBC_TUNABLES: %s", pin->name, strerror(errno));
    (*changed)++;
    return 0;
}

/* After the re-execution: checks that each library took its variable. */
static int check_pinned(const CpuPin *pin)
{
    const char *core = openblas_get_corename();
    if (!core || strcasecmp(core, pin->blas_core) != 0)
        return lpg_error("LPG_CPU=%s: OpenBLAS runs its %s kernels, not %s (OPENBLAS_CORETYPE "
                         "ignored?)", pin->name, core ? core : "unknown", pin->blas_core);
    if (vec_level != pin->vec)
        return lpg_error("LPG_CPU=%s: lpg runs its %s kernels, not %s", pin->name,
                         vec_level_name(vec_level), vec_level_name(pin->vec));
#if GLIBC_X86_FEATURES
    if (pin->glibc_hwcaps && CPU_FEATURE_ACTIVE(AVX512F))
        return lpg_error("LPG_CPU=%s: glibc still uses AVX-512 (GLIBC_TUNABLES ignored?)",
                         pin->name);
#endif
    return 0;
}

int cpu_pin_apply(char **argv)
{
    const char *name = cpu_pin_name();
    if (!name)
        return vec_level_check();
    const CpuPin *pin = NULL;
    for (int i = 0; i < NUM_CPU_PINS; i++)
        if (strcmp(name, cpu_pins[i].name) == 0)
            pin = &cpu_pins[i];
    if (!pin)
        return lpg_error("LPG_CPU=%s: no such setting (avx2 or avx512)", name);
    if (!cpu_runs(pin))
        return lpg_error("LPG_CPU=%s: this CPU lacks %s", name, pin->needs);
    int changed = 0;
    if (require_variable(pin, "OPENBLAS_CORETYPE", pin->blas_core, &changed) ||
        require_variable(pin, "LPG_VEC", vec_level_name(pin->vec), &changed) ||
        (pin->glibc_hwcaps && require_tunable(pin, &changed)))
        return -1;
    if (changed) {
        execv("/proc/self/exe", argv);
        return lpg_error("LPG_CPU=%s: cannot re-execute /proc/self/exe to load the pinned "
                         "kernels: %s", name, strerror(errno));
    }
    return check_pinned(pin);
}
