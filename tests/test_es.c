/* test_es.c: evolution strategies (es.h, es_run.h). The estimator on toy fitnesses: it converges
 * to the true gradient of a quadratic as the population grows, antithetic pairs cancel even
 * terms exactly, centred ranks share ties. Fitness standardises each task. An ES lifetime is a
 * meta-gradient lifetime without the meta-gradient. ES meta-training on tests/configs/meta_tiny
 * moves η deterministically, for any thread count, resumes exactly, refuses bad keys, and the
 * CLI logs and resumes it byte for byte. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"
#include "es_run.h"
#include "memory_estimate.h"
#include "meta_helpers.h"
#include "meta_train.h"
#include "quiet_stderr.h"
#include "rng.h"
#include "test.h"
#include "util.h"

#define TINY "tests/configs/meta_tiny.json"
#define DIM 20

/* ---- the estimator on toy fitnesses ------------------------------------------------------- */

/* A fitness over members: F(x) = a + b·x + ½ xᵀAx (A symmetric, DIM x DIM) with x a member's
 * parameters minus the centre `origin`. */
typedef struct {
    double a, b[DIM], A[DIM][DIM];
    double origin[DIM];
} Toy;

static double toy_value(const Toy *toy, const real *p)
{
    double x[DIM], f = toy->a;
    for (int i = 0; i < DIM; i++)
        x[i] = (double)p[i] - toy->origin[i];
    for (int i = 0; i < DIM; i++) {
        f += toy->b[i] * x[i];
        for (int j = 0; j < DIM; j++)
            f += 0.5 * x[i] * toy->A[i][j] * x[j];
    }
    return f;
}

static int toy_fitness(void *ctx, const EsGeneration *g, double *fitness)
{
    real p[DIM];
    double eps[DIM];
    for (int m = 0; m < 2 * g->pairs; m++) {
        es_member(g, m, eps, p);
        fitness[m] = toy_value(ctx, p);
    }
    return 0;
}

static double cosine(const real *a, const double *b, int n)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++)
        ab += a[i] * b[i], aa += (double)a[i] * a[i], bb += b[i] * b[i];
    return ab / sqrt(aa * bb);
}

/* F(η) = −½‖η − c‖², ∇F = c − η. For it (F+ − F−) / (2σ) = ε·(c − η) exactly, so the raw
 * estimate is S (c − η) with S the sample second moment of P draws of ε, and its cosine with
 * the true gradient is about 1 / sqrt(1 + (DIM + 1) / P): 0.57, 0.91, 0.990, 0.9990 for P = 10,
 * 100, 1,000, 10,000. The thresholds leave room for one draw's luck. Centred ranks keep the
 * direction (by symmetry their mean pull is along c − η), with more noise. */
TEST(es_estimate_converges_to_the_gradient_of_a_quadratic)
{
    Toy toy;
    memset(&toy, 0, sizeof toy);
    real eta[DIM];
    double truth[DIM];
    Rng rng;
    rng_seed(&rng, 7, 1);
    for (int i = 0; i < DIM; i++) {
        eta[i] = (real)rng_normal(&rng);
        toy.origin[i] = rng_normal(&rng); /* c */
        toy.A[i][i] = -1;
        truth[i] = toy.origin[i] - (double)eta[i];
    }
    const int pops[] = {10, 100, 1000, 10000};
    const double at_least[] = {0.2, 0.8, 0.975, 0.997};
    double last = 0;
    real grad[DIM];
    for (int k = 0; k < 4; k++) {
        EsGeneration g = {eta, DIM, pops[k], 0.1, 11, 3};
        REQUIRE(es_estimate(&g, toy_fitness, &toy, ES_SHAPE_NONE, grad, NULL) == 0);
        double cos_raw = cosine(grad, truth, DIM);
        printf("    P = %5d: cosine with the true gradient %.5f (about %.5f expected)\n", pops[k],
               cos_raw, 1 / sqrt(1 + (DIM + 1.0) / pops[k]));
        CHECK(cos_raw > at_least[k]);
        CHECK(cos_raw > last); /* rising with the population */
        last = cos_raw;
        if (pops[k] == 10000) { /* and the size is right: ‖ĝ‖ / ‖∇F‖ → 1 */
            double gg = 0, tt = 0;
            for (int i = 0; i < DIM; i++)
                gg += (double)grad[i] * grad[i], tt += truth[i] * truth[i];
            CHECK_NEAR(sqrt(gg / tt), 1.0, 0.03);
        }
    }
    EsGeneration big = {eta, DIM, 10000, 0.1, 11, 3};
    REQUIRE(es_estimate(&big, toy_fitness, &toy, ES_SHAPE_CENTRED_RANKS, grad, NULL) == 0);
    double cos_ranked = cosine(grad, truth, DIM);
    printf("    P = 10000, centred ranks: cosine %.5f\n", cos_ranked);
    CHECK(cos_ranked > 0.99);
    EsGeneration small = {eta, DIM, 10, 0.1, 11, 3};
    REQUIRE(es_estimate(&small, toy_fitness, &toy, ES_SHAPE_CENTRED_RANKS, grad, NULL) == 0);
    CHECK(cosine(grad, truth, DIM) < 0.95);
}

/* Around η = 0, F(x) = a + ½ xᵀAx is even: F(σε) and F(−σε) are the same bits, so every pair
 * adds nothing and the estimate is exactly 0, raw or ranked. With an odd part b·x added, the
 * estimate is the odd part's alone. */
TEST(es_antithetic_pairs_cancel_even_terms)
{
    Toy toy;
    memset(&toy, 0, sizeof toy);
    Rng rng;
    rng_seed(&rng, 8, 1);
    toy.a = 3.5;
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j <= i; j++)
            toy.A[i][j] = toy.A[j][i] = rng_normal(&rng);
    real eta[DIM] = {0}, grad[DIM], odd_only[DIM];
    EsGeneration g = {eta, DIM, 50, 0.1, 5, 0};
    for (int shape = 0; shape < 2; shape++) {
        REQUIRE(es_estimate(&g, toy_fitness, &toy, (EsShaping)shape, grad, NULL) == 0);
        int zero = 1;
        for (int i = 0; i < DIM; i++)
            zero &= grad[i] == 0;
        CHECK(zero);
    }
    Toy odd;
    memset(&odd, 0, sizeof odd);
    for (int i = 0; i < DIM; i++)
        toy.b[i] = odd.b[i] = rng_normal(&rng);
    REQUIRE(es_estimate(&g, toy_fitness, &toy, ES_SHAPE_NONE, grad, NULL) == 0);
    REQUIRE(es_estimate(&g, toy_fitness, &odd, ES_SHAPE_NONE, odd_only, NULL) == 0);
    double worst = 0, size = 0;
    for (int i = 0; i < DIM; i++) {
        worst = fmax(worst, fabs((double)grad[i] - odd_only[i]));
        size = fmax(size, fabs((double)odd_only[i]));
    }
    CHECK(size > 0.1);
    CHECK(worst < 1e-4 * size);
}

TEST(es_centred_ranks_share_ties)
{
    double f[] = {3, 1, 2, 2}, u[4];
    REQUIRE(es_centred_ranks(f, 4, u) == 0);
    CHECK(u[0] == 0.5 && u[1] == -0.5 && u[2] == 0 && u[3] == 0);
    double same[] = {7, 7, 7, 7, 7, 7};
    double v[6];
    REQUIRE(es_centred_ranks(same, 6, v) == 0);
    CHECK(v[0] == 0 && v[1] == 0 && v[2] == 0 && v[3] == 0 && v[4] == 0 && v[5] == 0);
    double five[] = {0.1, -4, 9, 2, 0.5}, w[5];
    REQUIRE(es_centred_ranks(five, 5, w) == 0);
    CHECK(w[0] == -0.25 && w[1] == -0.5 && w[2] == 0.5 && w[3] == 0.25 && w[4] == 0);
}

/* ε depends on (seed, generation, pair) only; member 2p is η + σε_p and 2p+1 is η − σε_p. */
TEST(es_noise_is_keyed_by_seed_generation_and_pair)
{
    real eta[DIM] = {0}, plus[DIM], minus[DIM];
    double e1[DIM], e2[DIM], e3[DIM], e4[DIM];
    EsGeneration g = {eta, DIM, 4, 0.5, 1, 2};
    es_noise(&g, 3, e1);
    es_noise(&g, 3, e2);
    es_noise(&g, 2, e3);
    EsGeneration next = g;
    next.generation = 3;
    es_noise(&next, 3, e4);
    CHECK(memcmp(e1, e2, sizeof e1) == 0);
    CHECK(memcmp(e1, e3, sizeof e1) != 0);
    CHECK(memcmp(e1, e4, sizeof e1) != 0);
    es_member(&g, 6, e2, plus);
    es_member(&g, 7, e2, minus);
    for (int i = 0; i < DIM; i++) {
        CHECK(plus[i] == (real)(0.5 * e1[i]));
        CHECK(minus[i] == -plus[i]);
    }
}

/* Per task (R − mean) / std over members, then the mean over tasks: a task with returns 1000
 * times larger and shifted weighs the same; a task where all members tie adds 0; a return that
 * is not finite counts as the task's lowest. */
TEST(es_fitness_weighs_every_task_alike)
{
    enum { M = 4, T = 3 };
    /* member m's returns on tasks 0..2 at m * 3 + t */
    double r[M * T] = {1, 1000 + 3000, 5,
                       2, 1000 + 1000, 5,
                       3, 1000 + 2000, 5,
                       4, 1000 + 4000, 5};
    double fitness[M], column[M];
    es_fitness(r, M, T, fitness, column);
    /* task 0: z = (-1.5, -0.5, 0.5, 1.5) / sqrt(1.25); task 1 the same values in the order
     * 3, 1, 2, 4; task 2 all 0. */
    double s = sqrt(1.25);
    CHECK_NEAR(fitness[0], (-1.5 + 0.5) / s / 3, 1e-12);
    CHECK_NEAR(fitness[1], (-0.5 - 1.5) / s / 3, 1e-12);
    CHECK_NEAR(fitness[2], (0.5 - 0.5) / s / 3, 1e-12);
    CHECK_NEAR(fitness[3], (1.5 + 1.5) / s / 3, 1e-12);
    r[1 * T + 0] = NAN; /* member 1 diverged on task 0: it ties the lowest, member 0 (1) */
    es_fitness(r, M, T, fitness, column);
    double z0 = (1 - 2.25) / sqrt(1.6875), z3 = (4 - 2.25) / sqrt(1.6875);
    CHECK_NEAR(fitness[0], (z0 + 0.5 / s) / 3, 1e-12);
    CHECK_NEAR(fitness[1], (z0 - 1.5 / s) / 3, 1e-12);
    CHECK_NEAR(fitness[3], (z3 + 1.5 / s) / 3, 1e-12);
}

/* ---- ES lifetimes and runs ---------------------------------------------------------------- */

/* An ES lifetime is a meta-gradient lifetime without the meta-gradient: lived by
 * lifetime_forward (no critic for an LPG rule) and by lifetime_window, the same seed and η give
 * the same θ, episodes and final return, on a tabular and an MLP agent. */
TEST(es_lifetime_forward_lives_the_meta_gradient_lifetime)
{
    MetaRun run;
    REQUIRE(meta_run_init(&run, TINY, 0, NULL) == 0);
    for (int e = 0; e < run.num_envs; e++) {
        Lifetime a, b;
        double lr, y;
        int arm = es_arm(&run.config, &run.specs[e], &lr, &y);
        REQUIRE(lifetime_start(&a, &run.config, &run.specs[e], e, arm, lr, y, 6, 0, &run.layout, 99) == 0);
        REQUIRE(lifetime_start(&b, &run.config, &run.specs[e], e, arm, lr, y, 6, 0, &run.layout, 99) == 0);
        int64_t ea = 0, eb = 0;
        double sa = 0, sb = 0;
        while (!lifetime_finished(&a))
            lifetime_forward(&a, run.eta, &run.layout, &ea, &sa);
        while (!lifetime_finished(&b))
            lifetime_window(&b, run.eta, &run.layout, &eb, &sb);
        CHECK_INT(a.updates, 6);
        CHECK_INT(ea, eb);
        CHECK(sa == sb);
        CHECK(lifetime_final_return(&a) == lifetime_final_return(&b));
        CHECK(memcmp(window_theta(&a.window, 0), window_theta(&b.window, 0),
                     a.agent.num_params * sizeof(real)) == 0);
        lifetime_free(&a);
        lifetime_free(&b);
    }
    meta_run_free(&run);
}

static char *es_over[] = {"meta_optimizer=es", "es_population=3", "es_lifetimes_per_member=2",
                          "threads=2", NULL, NULL, NULL};

/* η after steps generations of meta_tiny with the ES overrides (plus extra, may be NULL). */
static real *es_eta_after(int steps, char *extra, size_t *count)
{
    es_over[4] = extra;
    return meta_eta_after(TINY, steps, extra ? 5 : 4, es_over, count);
}

TEST(es_meta_train_moves_eta_deterministically_for_any_thread_count)
{
    size_t n = 0;
    real *start = es_eta_after(0, NULL, &n), *a = es_eta_after(4, NULL, &n);
    real *b = es_eta_after(4, NULL, &n), *one = es_eta_after(4, "threads=1", &n);
    real *three = es_eta_after(4, "threads=3", &n);
    REQUIRE(start && a && b && one && three);
    CHECK(memcmp(a, b, n * sizeof(real)) == 0);
    CHECK(memcmp(a, one, n * sizeof(real)) == 0);
    CHECK(memcmp(a, three, n * sizeof(real)) == 0);
    double moved = 0;
    for (size_t i = 0; i < n; i++)
        moved = fmax(moved, fabs((double)a[i] - start[i]));
    /* Adam's first steps move every parameter with a non-zero estimate by about es_lr. */
    CHECK(moved > 0.005 && moved < 0.05);
    free(start), free(a), free(b), free(one), free(three);
}

/* A generation's statistics: lifetimes counted, fitness spread, α from the grid's middle. */
TEST(es_generation_counts_and_logs)
{
    MetaRun run;
    es_over[4] = NULL;
    REQUIRE(meta_run_init(&run, TINY, 4, es_over) == 0);
    CHECK(run.es != NULL);
    CHECK_INT(run.adam.hyper.clip, 0);
    CHECK(run.adam.hyper.lr == 0.01);
    MetaStepStats st;
    int spread = 0;
    for (int s = 0; s < 4; s++) {
        REQUIRE(meta_run_step(&run, &st) == 0);
        CHECK_INT(st.lifetimes_finished, 12);
        CHECK(st.fitness_max >= st.fitness_min);
        CHECK(isnan(st.J));
        spread |= st.fitness_max > st.fitness_min;
        /* 12 lifetimes of 6 updates: 3 windows of K + 1 = 3 rollouts of 5 steps x 4 copies */
        CHECK_INT(st.env_steps, 12 * 3 * 3 * 5 * 4);
    }
    CHECK(spread);
    CHECK_INT(run.step, 4);
    CHECK_INT(run.lifetimes_finished, 48);
    CHECK_INT(run.adam.step, 4);
    double lr, y;
    CHECK_INT(es_arm(&run.config, &run.specs[0], &lr, &y), 4); /* tabular: lrs {0.5,1,2} x {0.1,0.5,1} */
    CHECK(lr == 1 && y == 0.5);
    meta_run_free(&run);
}

/* 2 generations, a checkpoint, 3 more on another thread count = 5 straight; with lifetime
 * ranges and lifetime inputs too. */
TEST(es_meta_train_resumes_exactly_across_thread_counts)
{
    const char *path = "build/test_es_resume.lpg";
    for (int ranged = 0; ranged < 2; ranged++) {
        char *over[] = {"meta_optimizer=es", "es_population=2", "es_lifetimes_per_member=3",
                        "threads=2", "lifetime_range=2,12", "lifetime_inputs=true"};
        int nover = ranged ? 6 : 4;
        MetaRun run;
        MetaStepStats st;
        REQUIRE(meta_run_init(&run, TINY, nover, over) == 0);
        for (int s = 0; s < 5; s++) {
            CHECK_INT(meta_run_step(&run, &st), 0);
            if (s == 1)
                CHECK_INT(meta_run_save(&run, path), 0);
        }
        size_t count = run.layout.count;
        real *straight = malloc(count * sizeof(real)), *m = malloc(count * sizeof(real));
        memcpy(straight, run.eta, count * sizeof(real));
        memcpy(m, run.adam.m, count * sizeof(real));
        uint64_t state = run.rng.state;
        meta_run_free(&run);
        over[3] = "threads=1";
        REQUIRE(meta_run_resume(&run, TINY, nover, over, path, 0) == 0);
        CHECK_INT(run.step, 2);
        for (int s = 2; s < 5; s++)
            CHECK_INT(meta_run_step(&run, &st), 0);
        CHECK(memcmp(run.eta, straight, count * sizeof(real)) == 0);
        CHECK(memcmp(run.adam.m, m, count * sizeof(real)) == 0);
        CHECK(run.rng.state == state);
        meta_run_free(&run);
        free(straight);
        free(m);
    }
}

/* Bad ES keys are refused, naming the file and the key. */
TEST(es_refuses_bad_keys)
{
    const char *bad[] = {"es_sigma=0", "es_sigma=-0.1", "es_population=0",
                         "meta_optimizer=adam", "es_lr=-1", "es_lifetimes_per_member=0",
                         "es_population=65537", "es_population=1000 es_lifetimes_per_member=1000"};
    const char *key[] = {"'es_sigma'", "'es_sigma'", "'es_population'", "'meta_optimizer'",
                         "'es_lr'", "'es_lifetimes_per_member'", "'es_population'",
                         "'es_population' x 'es_lifetimes_per_member'"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cmd[256], out[4096];
        snprintf(cmd, sizeof cmd, "meta-train " TINY " meta_optimizer=es %s "
                 "run_dir=build/test_runs/es_bad", bad[i]);
        CHECK_INT(run_lpg(cmd, out, sizeof out), 1);
        CHECK(strstr(out, key[i]) != NULL);
        CHECK(strstr(out, "meta_tiny.json") != NULL || strstr(out, "command line") != NULL);
        if (i == 0)
            printf("    %s", out);
    }
    MetaConfig c;
    char *over[] = {"es_sigma=0"}; /* the file is named when the key comes from it or over it */
    mute_stderr();
    CHECK_INT(meta_config_load(&c, TINY, 1, over), -1);
    unmute_stderr();
    char *good[] = {"meta_optimizer=es", "es_sigma=0.02"};
    CHECK_INT(meta_config_load(&c, TINY, 2, good), 0);
    CHECK_INT(c.use_es, 1);
    CHECK_INT(meta_config_load(&c, TINY, 0, NULL), 0);
    CHECK_INT(c.use_es, 0); /* the default stays the meta-gradient */
    char *with_levels[] = {"meta_optimizer=es", "level_sampler=regret"}; /* not built together */
    mute_stderr();
    CHECK_INT(meta_config_load(&c, TINY, 2, with_levels), -1);
    unmute_stderr();
}

/* The memory estimate of an ES run counts a lifetime per thread: each thread adds the same. */
TEST(es_memory_estimate_grows_with_threads)
{
    char *one[] = {"meta_optimizer=es", "threads=1"}, *two[] = {"meta_optimizer=es", "threads=2"},
         *four[] = {"meta_optimizer=es", "threads=4"};
    MetaRun a, b, d;
    REQUIRE(meta_run_init(&a, TINY, 2, one) == 0);
    REQUIRE(meta_run_init(&b, TINY, 2, two) == 0);
    REQUIRE(meta_run_init(&d, TINY, 2, four) == 0);
    double ma = memory_meta_train(&a.config, a.specs, a.num_envs);
    double mb = memory_meta_train(&b.config, b.specs, b.num_envs);
    double md = memory_meta_train(&d.config, d.specs, d.num_envs);
    CHECK(ma > 1e4 && mb > ma);
    CHECK_NEAR((md - mb) / (mb - ma), 2.0, 1e-9);
    meta_run_free(&a);
    meta_run_free(&b);
    meta_run_free(&d);
}

/* The CLI: --help lists the keys; a run logs generations and resumes to the bytes of a
 * straight run. */
TEST(es_cli_runs_logs_and_resumes_byte_for_byte)
{
    char out[16384];
    CHECK_INT(run_lpg("meta-train --help", out, sizeof out), 0);
    const char *keys[] = {"meta_optimizer", "es_sigma", "es_population", "es_lr",
                          "es_lifetimes_per_member"};
    for (int i = 0; i < 5; i++)
        CHECK(strstr(out, keys[i]) != NULL);
    const char *dir = "build/test_runs/es_cli";
    const char *args = "meta-train " TINY " meta_optimizer=es es_population=3 "
                       "es_lifetimes_per_member=2 run_dir=build/test_runs/es_cli";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s meta_steps=4 --overwrite", args);
    REQUIRE(run_lpg(cmd, out, sizeof out) == 0);
    CHECK(strstr(out, "evolution strategies: 6 members") != NULL);
    CHECK(strstr(out, "generation 4/4") != NULL);
    size_t len_ck, len_log;
    char ckpt[256], logp[256];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.lpg", dir);
    snprintf(logp, sizeof logp, "%s/log.jsonl", dir);
    char *straight = read_whole_file(ckpt, &len_ck);
    char *log = read_whole_file(logp, &len_log);
    REQUIRE(straight && log);
    CHECK(strstr(log, "\"step\":4,\"fitness_max\":") != NULL);
    CHECK(strstr(log, "\"J\"") == NULL && strstr(log, "critic_fvu") == NULL);
    snprintf(cmd, sizeof cmd, "%s meta_steps=2 --overwrite", args);
    CHECK_INT(run_lpg(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s meta_steps=4 --resume", args);
    CHECK_INT(run_lpg(cmd, out, sizeof out), 0);
    size_t len_resumed;
    char *resumed = read_whole_file(ckpt, &len_resumed);
    CHECK(resumed && len_resumed == len_ck && memcmp(resumed, straight, len_ck) == 0);
    CHECK(strstr(out, "bandits") == NULL); /* no bandit to print */
    /* Switching to the meta-gradient on resume is a changed learning key. */
    snprintf(cmd, sizeof cmd, "meta-train " TINY " es_population=3 es_lifetimes_per_member=2 "
             "run_dir=build/test_runs/es_cli meta_steps=5 --resume");
    CHECK_INT(run_lpg(cmd, out, sizeof out), 1);
    CHECK(strstr(out, "meta_optimizer was \"es\"") != NULL);
    snprintf(cmd, sizeof cmd, "meta-train " TINY " es_population=3 es_lifetimes_per_member=2 "
             "run_dir=build/test_runs/es_cli meta_steps=5 --resume --allow-changes");
    CHECK_INT(run_lpg(cmd, out, sizeof out), 1);
    CHECK(strstr(out, "holds no lifetimes for the meta-gradient") != NULL);
    free(straight);
    free(resumed);
    free(log);
}
