/* analyse_common.c: what the analyses share (analyse.h): KL and correlation, text files,
 * gnuplot, the progress line. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyse.h"
#include "softmax.h"
#include "util.h"

double analyse_kl_logits(const real *u0, const real *u1, int m)
{
    double lse0 = (double)log_sum_exp_row(u0, m), lse1 = (double)log_sum_exp_row(u1, m);
    double kl = 0;
    for (int j = 0; j < m; j++) {
        double log_p = (double)u0[j] - lse0, log_q = (double)u1[j] - lse1;
        kl += exp(log_p) * (log_p - log_q);
    }
    return kl > 0 ? kl : 0; /* rounding may leave -1e-17 for equal rows */
}

double analyse_correlation(const double *x, size_t x_stride, const double *y, size_t y_stride,
                           int n)
{
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++)
        mx += x[i * x_stride], my += y[i * y_stride];
    mx /= n, my /= n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        double dx = x[i * x_stride] - mx, dy = y[i * y_stride] - my;
        sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

/* ---- text ----------------------------------------------------------------------------- */

void analyse_text_add(AnalyseText *t, const char *fmt, ...)
{
    while (!t->failed) {
        size_t room = t->cap - t->len;
        va_list args;
        va_start(args, fmt);
        int n = t->data ? vsnprintf(t->data + t->len, room, fmt, args) : (int)room;
        va_end(args);
        if (n < 0) {
            t->failed = 1;
        } else if (t->data && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        } else {
            size_t cap = t->cap * 2 + (size_t)n + 256;
            char *bigger = realloc(t->data, cap);
            if (!bigger)
                t->failed = 1;
            else
                t->data = bigger, t->cap = cap;
        }
    }
}

/* Releases the text's buffer. */
static void analyse_text_free(AnalyseText *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

int analyse_text_write(AnalyseText *t, const char *dir, const char *name)
{
    char path[LPG_PATH_MAX];
    int rc;
    if (t->failed || !t->data)
        rc = lpg_error("%s/%s: out of memory building the file", dir, name);
    else if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        rc = lpg_error("%s/%s: path too long", dir, name);
    else
        rc = write_file_atomic(path, t->data, t->len);
    analyse_text_free(t);
    return rc;
}

/* ---- gnuplot -------------------------------------------------------------------------- */

/* Runs `gnuplot script`; returns its exit status, or 127 when it could not be started. */
static int run_gnuplot(const char *script)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 127;
    if (pid == 0) {
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 127;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int analyse_plot(const char *dir, const char *name, int width, int height, AnalyseText *body)
{
    char script[LPG_PATH_MAX], png[LPG_PATH_MAX], tmp[LPG_PATH_MAX + 8];
    if (strpbrk(dir, "'\"\\")) {
        analyse_text_free(body);
        return lpg_error("%s: key 'output_dir': a folder with quotes or backslashes cannot be "
                         "named in a gnuplot script", dir);
    }
    snprintf(script, sizeof script, "%s/%s.gp", dir, name);
    snprintf(png, sizeof png, "%s/%s.png", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", png);
    AnalyseText gp = {0};
    analyse_text_add(&gp, "# Draws %s from the CSV beside it: gnuplot %s\n"
                          "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                          "  set terminal pngcairo size %d,%d font 'Sans,10' background '#ffffff'\n"
                          "} else {\n"
                          "  set terminal png size %d,%d background '#ffffff'\n"
                          "}\n"
                          "set output '%s'\n%s",
                     png, script, width, height, width, height, tmp,
                     body->data ? body->data : "");
    int failed = body->failed;
    analyse_text_free(body);
    if (failed)
        gp.failed = 1;
    char gp_name[LPG_PATH_MAX];
    snprintf(gp_name, sizeof gp_name, "%s.gp", name);
    if (analyse_text_write(&gp, dir, gp_name))
        return -1;
    int status = run_gnuplot(script);
    if (status == 127) {
        remove(tmp);
        return lpg_error("%s: gnuplot could not be run (install gnuplot-nox, or set plot=false); "
                         "the CSV is written, `gnuplot %s` draws the picture", png, script);
    }
    if (status != 0) {
        remove(tmp);
        return lpg_error("%s: gnuplot failed on %s (exit status %d)", png, script, status);
    }
    if (rename(tmp, png) != 0)
        return lpg_error("%s: cannot rename %s: %s", png, tmp, strerror(errno));
    return 0;
}

/* ---- progress ------------------------------------------------------------------------- */

void analyse_progress_start(AnalyseProgress *p, const char *what, const char *unit, int enabled)
{
    p->what = what;
    p->unit = unit;
    p->enabled = enabled;
    p->tty = enabled && isatty(STDERR_FILENO);
    p->started = p->last = now_seconds();
}

void analyse_progress(AnalyseProgress *p, int done, int total)
{
    if (!p->enabled)
        return;
    double now = now_seconds();
    if (done < total && now - p->last < (p->tty ? 0.25 : 10.0))
        return;
    p->last = now;
    fprintf(stderr, "%sanalyse %s: %d/%d %s, %.0fs%s", p->tty ? "\r" : "", p->what, done, total,
            p->unit, now - p->started, p->tty && done < total ? "" : "\n");
    fflush(stderr);
}
