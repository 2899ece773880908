/* test_metagrad.c: the whole meta-gradient dJ/dη through K inner updates against central finite
 * differences of J (window_replay) in double precision, for every agent kind, with the rule's
 * inputs as stop-gradient (the default) and with input_grad (the path through θ_k's inputs), for
 * each kind of rule: LPG, LPG-V (the critic's values as inputs) and LPG with unconstrained y. */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "env.h"
#include "metagrad.h"
#include "rule.h"
#include "quiet_stderr.h"
#include "test.h"

typedef struct {
    EnvSpec spec;
    EnvBatch env;
    Agent agent;
    AgentWork awork;
    RuleLayout layout;
    RuleWork *rwork;
    Window window;
    Critic critic;
    real *critic0;  /* the critic's parameters before the window */
    real *eta;
    WindowParams params;
} Setup;

/* How the window's inner steps go: the optimizer and, for Adam, whether its moments start from
 * a lifetime in progress (random m_0, v_0 after 7 updates) rather than from a fresh agent; and
 * the finite differences' step in η (0: 1e-3). */
typedef struct {
    InnerOptimizer optimizer;
    int carried;
    double fd_step;
    int lifetime_length; /* > 0: a lifetime-aware rule, the window in a life of this length */
} Inner;

static const Inner SGD = {INNER_SGD, 0, 0, 0};

/* Adam's state after 7 updates of a lifetime: m_0 and v_0 random (v_0 > 0). */
static void carry_adam_state(Window *w, Rng *rng)
{
    w->updates = 7;
    for (size_t j = 0; j < w->num_params; j++) {
        window_m(w, 0)[j] = (real)(0.02 * (rng_uniform_double(rng) - 0.5));
        window_v(w, 0)[j] = (real)(1e-4 * (rng_uniform_double(rng) + 0.01));
    }
}

/* Collects a window (window_collect) of a rule of the given kind, with the given inner steps,
 * and gives it a fixed random advantage. An LPG-V window trains a critic (a value of the agent's
 * kind, its MLP drawn at random so that V is not constant) and reads its values. */
static int setup_window_full(Setup *s, const char *env_path, AgentKind kind, int K, real alpha_lr,
                             int input_grad, RuleMethod method, int y_raw, Inner inner)
{
    memset(s, 0, sizeof *s);
    const int t_len = 4, n = 3;
    if (env_load(env_path, &s->spec) || env_batch_init(&s->env, &s->spec, n, 11))
        return -1;
    AgentSpec as = {0};
    as.kind = kind;
    as.num_states = s->spec.num_states;
    as.obs_dim = s->spec.obs_dim;
    as.num_hidden = kind != AGENT_TABULAR ? 1 : 0;
    as.hidden[0] = 6;
    if (kind == AGENT_CONV) {
        as.conv_filters = 4;
        as.in_planes = s->spec.obs_planes;
        as.in_height = s->spec.obs_height;
        as.in_width = s->spec.obs_width;
    }
    as.num_actions = s->spec.num_actions;
    as.num_y = method == RULE_LPG_V ? 0 : RULE_Y_DIM;
    as.tabular_init_std = 0.5;
    if (agent_setup(&s->agent, &as) || agent_work_init(&s->awork, &s->agent, (t_len + 1) * n))
        return -1;
    rule_layout_lifetime(&s->layout, 5, inner.lifetime_length > 0);
    s->layout.method = method;
    s->layout.y_raw = y_raw;
    s->rwork = rule_work_create(&s->layout, n, t_len);
    s->eta = calloc(s->layout.count, sizeof(real));
    if (!s->rwork || !s->eta || window_init(&s->window, &s->spec, &s->agent, K, t_len, n,
                                               inner.optimizer))
        return -1;
    Rng rng;
    rng_seed(&rng, 5, 0);
    rule_init(s->eta, &s->layout, &rng);
    agent_init_params(&s->agent, window_theta(&s->window, 0), &rng);
    WindowParams p = {K, alpha_lr, 0.5, 0.01, 0.02, 0.03, 0.04, input_grad, 0.5, 0.9};
    s->params = p;
    Window *w = &s->window;
    for (int i = 0; i < n; i++)
        w->gamma[i] = (real)s->spec.gamma;
    const int critic_hidden[1] = {5};
    if (method == RULE_LPG_V &&
        critic_init(&s->critic, &s->spec, 0, critic_hidden, 1, t_len, n, &rng))
        return -1;
    if (method == RULE_LPG_V) {
        size_t bytes = s->critic.net.num_params * sizeof(real);
        s->critic0 = malloc(bytes);
        memcpy(s->critic0, s->critic.params, bytes);
    }
    if (inner.carried)
        carry_adam_state(w, &rng);
    if (inner.lifetime_length > 0) { /* a window well into its life: n/N moves with k */
        w->updates = inner.carried ? w->updates : 6;
        w->length = inner.lifetime_length;
    }
    window_collect(w, &s->env, &s->agent, &s->awork, s->rwork, s->eta, &s->layout, &s->params,
                   method == RULE_LPG_V ? &s->critic : NULL, &rng);
    for (int b = 0; b < t_len * n; b++)
        w->advantage[b] = (real)(2 * rng_uniform_double(&rng) - 1);
    return 0;
}

static int setup_window(Setup *s, const char *env_path, AgentKind kind, int K, real alpha_lr,
                        int input_grad)
{
    return setup_window_full(s, env_path, kind, K, alpha_lr, input_grad, RULE_LPG, 0, SGD);
}

static int setup_window_kind(Setup *s, const char *env_path, AgentKind kind, int K, real alpha_lr,
                             int input_grad, RuleMethod method, int y_raw)
{
    return setup_window_full(s, env_path, kind, K, alpha_lr, input_grad, method, y_raw, SGD);
}

static void teardown(Setup *s)
{
    critic_free(&s->critic);
    free(s->critic0);
    window_free(&s->window);
    rule_work_free(s->rwork);
    free(s->eta);
    agent_work_free(&s->awork);
    env_batch_free(&s->env);
}

static double replay_at(Setup *s, size_t i, double delta)
{
    real saved = s->eta[i];
    s->eta[i] = saved + delta;
    double J = window_replay(&s->window, &s->agent, &s->awork, s->rwork, s->eta, &s->layout,
                             &s->params);
    s->eta[i] = saved;
    return J;
}

/* Checks dJ/dη coordinate by coordinate over every parameter group; returns the worst relative
 * error. Coordinates a thousand times smaller than the largest are judged against 1e-3 x the
 * largest: their differences are round-off (about 1e-14 absolute), not signal. */
static double check_meta_gradient_full(const char *env_path, AgentKind kind, int K,
                                       real alpha_lr, int input_grad, RuleMethod method, int y_raw,
                                       Inner inner)
{
    Setup s;
    REQUIRE_OR(setup_window_full(&s, env_path, kind, K, alpha_lr, input_grad, method, y_raw,
                                 inner) == 0,
               INFINITY);
    real *grad = calloc(s.layout.count, sizeof(real));
    /* θ_1..θ_K from collection must equal a replay's (the data are fixed). With input_grad the
     * replay recomputes the inputs from θ_k in one batch of (T+1)n rows where collection went
     * step by step; an MLP's gemm may then round differently. */
    real *theta_k = malloc(s.agent.num_params * sizeof(real));
    memcpy(theta_k, window_theta(&s.window, K), s.agent.num_params * sizeof(real));
    double J0 = window_replay(&s.window, &s.agent, &s.awork, s.rwork, s.eta, &s.layout, &s.params);
    if (!input_grad || kind == AGENT_TABULAR) {
        CHECK(memcmp(theta_k, window_theta(&s.window, K), s.agent.num_params * sizeof(real)) == 0);
    } else {
        double diff = 0;
        for (size_t j = 0; j < s.agent.num_params; j++)
            diff = fmax(diff, fabs(theta_k[j] - window_theta(&s.window, K)[j]));
        CHECK(diff < 1e-12);
    }
    double J = window_meta_gradient(&s.window, &s.agent, &s.awork, s.rwork, s.eta, &s.layout,
                                    &s.params, grad);
    CHECK_NEAR(J, J0, 1e-12);

    double worst = 0, scale = 0;
    for (size_t i = 0; i < s.layout.count; i++)
        scale = fmax(scale, fabs(grad[i]));
    CHECK(scale > 1e-6); /* the gradient is not trivially zero */
    const double h = inner.fd_step > 0 ? inner.fd_step : 1e-3; /* fourth-order central differences; round-off dominates below */
    const size_t *at = s.layout.at;
    for (int g = 0; g < RULE_GROUPS; g++) {
        double group_worst = 0;
        if (method == RULE_LPG_V && (g <= RULE_GROUP_PHI_B2 || g >= RULE_GROUP_Y_W)) {
            for (size_t i = at[g]; i < at[g + 1]; i++) /* φ and the ŷ head: unused */
                CHECK(grad[i] == 0);
            continue;
        }
        size_t stride = (at[g + 1] - at[g]) / 12 + 1;
        for (size_t i = at[g]; i < at[g + 1]; i += stride) {
            double fd = (8 * (replay_at(&s, i, h) - replay_at(&s, i, -h)) -
                         (replay_at(&s, i, 2 * h) - replay_at(&s, i, -2 * h))) / (12 * h);
            double err = rel_error(grad[i], fd, 1e-3 * scale);
            group_worst = fmax(group_worst, err);
        }
        fprintf(stderr, "    K=%d %s%s %s%s%s %-8s worst rel error %.2e\n", K,
                rule_kind_name(&s.layout), s.layout.lifetime_inputs ? " lifetime" : "",
                kind == AGENT_MLP ? "mlp    " : kind == AGENT_CONV ? "conv   " : "tabular",
                input_grad ? " input_grad" : "",
                inner.optimizer == INNER_ADAM ? (inner.carried ? " adam carried" : " adam") : "",
                rule_group_names[g], group_worst);
        worst = fmax(worst, group_worst);
    }
    free(theta_k);
    free(grad);
    teardown(&s);
    return worst;
}

static double check_meta_gradient(const char *env_path, AgentKind kind, int K, real alpha_lr,
                                  int input_grad)
{
    return check_meta_gradient_full(env_path, kind, K, alpha_lr, input_grad, RULE_LPG, 0, SGD);
}

static double check_meta_gradient_kind(const char *env_path, AgentKind kind, int K, real alpha_lr,
                                       int input_grad, RuleMethod method, int y_raw)
{
    return check_meta_gradient_full(env_path, kind, K, alpha_lr, input_grad, method, y_raw, SGD);
}

static double check_meta_gradient_with(const char *env_path, AgentKind kind, int K,
                                       real alpha_lr, int input_grad, Inner inner)
{
    return check_meta_gradient_full(env_path, kind, K, alpha_lr, input_grad, RULE_LPG, 0, inner);
}

TEST(metagrad_tabular_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    int ks[] = {1, 2, 5};
    for (int i = 0; i < 3; i++)
        CHECK(check_meta_gradient("configs/envs/chain_short_noisy.json", AGENT_TABULAR, ks[i], 0.5, 0) < 1e-6);
    /* On a grid the copies spread out, so the per-state factors differ between states. */
    for (int i = 0; i < 3; i++)
        CHECK(check_meta_gradient("configs/envs/tabular_sparse.json", AGENT_TABULAR, ks[i], 0.5, 0) < 1e-6);
}

TEST(metagrad_mlp_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    int ks[] = {1, 2, 5};
    for (int i = 0; i < 3; i++)
        CHECK(check_meta_gradient("configs/envs/chain_distraction.json", AGENT_MLP, ks[i], 0.5, 0) < 1e-6);
}

/* input_grad: the same checks with the rule's inputs of updates k >= 1 following θ_k. The
 * tabular chain is one of 3 steps, so that its states recur within and across the window's short
 * rollouts: on chain_short_noisy each copy walks through new states during a window of 4-step
 * rollouts, the rows of update k never meet those of the others, and a tabular agent's input
 * path is exactly zero there (as is every term but the L2 ones). */
#define CHAIN_RECURRENT "tests/configs/chain_recurrent.json"

TEST(metagrad_input_grad_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    int ks[] = {1, 2, 5};
    for (int i = 0; i < 3; i++)
        CHECK(check_meta_gradient(CHAIN_RECURRENT, AGENT_TABULAR, ks[i], 0.5, 1) < 1e-6);
    for (int i = 0; i < 3; i++)
        CHECK(check_meta_gradient("configs/envs/tabular_sparse.json", AGENT_TABULAR, ks[i], 0.5, 1) < 1e-6);
    for (int i = 0; i < 3; i++)
        CHECK(check_meta_gradient("configs/envs/chain_distraction.json", AGENT_MLP, ks[i], 0.5, 1) < 1e-6);
}

/* On one collected window: max_i |g_on - g_off| / max_i |g_off| over [start, end) of η, g_on
 * and g_off the meta-gradients with and without input_grad. */
static double input_path_share(size_t start, size_t end, const real *on, const real *off)
{
    double diff = 0, scale = 0;
    for (size_t i = start; i < end; i++) {
        diff = fmax(diff, fabs(on[i] - off[i]));
        scale = fmax(scale, fabs(off[i]));
    }
    return scale > 0 ? diff / scale : INFINITY;
}

/* With K = 1 only θ_0's inputs are involved (θ_0 does not depend on η): the two gradients are
 * the same. From K = 2 on the new path is really there: they differ by far more than the 1e-6
 * the finite-difference checks resolve. */
static void check_input_path(const char *env_path, AgentKind kind, int K)
{
    Setup s;
    REQUIRE(setup_window(&s, env_path, kind, K, 0.5, 0) == 0);
    real *off = calloc(s.layout.count, sizeof(real)), *on = calloc(s.layout.count, sizeof(real));
    window_meta_gradient(&s.window, &s.agent, &s.awork, s.rwork, s.eta, &s.layout, &s.params, off);
    s.params.input_grad = 1;
    window_meta_gradient(&s.window, &s.agent, &s.awork, s.rwork, s.eta, &s.layout, &s.params, on);
    double all = input_path_share(0, s.layout.count, on, off);
    double y_head = input_path_share(s.layout.y_w, s.layout.count, on, off);
    fprintf(stderr, "    K=%d %s %s: |g_on - g_off| / |g_off| = %.2e (y head %.2e)\n", K,
            kind == AGENT_MLP ? "mlp    " : "tabular", env_path, all, y_head);
    if (K == 1)
        CHECK(memcmp(on, off, s.layout.count * sizeof(real)) == 0);
    else
        CHECK(all > 1e-4);
    free(on);
    free(off);
    teardown(&s);
}

TEST(metagrad_input_grad_adds_a_path_from_k_2)
{
    int ks[] = {1, 2, 5};
    for (int i = 0; i < 3; i++) {
        check_input_path(CHAIN_RECURRENT, AGENT_TABULAR, ks[i]);
        check_input_path("configs/envs/tabular_sparse.json", AGENT_TABULAR, ks[i]);
        check_input_path("configs/envs/chain_distraction.json", AGENT_MLP, ks[i]);
    }
}

TEST(metagrad_per_state_mean_scales_visited_rows_only)
{
    /* Batch of 6 rows over states 0,2,2,5,2,0: rows of state 0 x 6/2, state 2 x 6/3, state 5
     * x 6/1; unvisited rows unchanged. */
    AgentSpec spec = {0};
    spec.kind = AGENT_TABULAR;
    spec.num_states = 7;
    spec.num_actions = 2;
    Agent agent;
    AgentWork work;
    REQUIRE(agent_setup(&agent, &spec) == 0);
    REQUIRE(agent_work_init(&work, &agent, 6) == 0);
    int32_t states[6] = {0, 2, 2, 5, 2, 0};
    AgentObs obs = {states, NULL};
    real vec[14];
    for (int j = 0; j < 14; j++)
        vec[j] = (real)(j + 1);
    agent_per_state_mean(&agent, &work, obs, 6, vec);
    const double factor[7] = {3, 1, 2, 1, 1, 6, 1};
    for (int s = 0; s < 7; s++)
        for (int a = 0; a < 2; a++)
            CHECK_NEAR(vec[2 * s + a], factor[s] * (2 * s + a + 1), 1e-12);
    agent_work_free(&work);
}

/* A MinAtar board (Seaquest: 10 channels, obs_dim 1000) through the MLP agent. */
TEST(metagrad_mlp_on_minatar_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    CHECK(check_meta_gradient("configs/envs/minatar/seaquest.json", AGENT_MLP, 2, 0.5, 0) < 1e-6);
    CHECK(check_meta_gradient("configs/envs/minatar/seaquest.json", AGENT_MLP, 2, 0.5, 1) < 1e-6);
}

/* The same board through a conv agent (4 filters of 3x3 over Seaquest's 10 channels, then a
 * hidden layer of 6), through K = 2 and 3 updates. */
TEST(metagrad_conv_on_minatar_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    CHECK(check_meta_gradient("configs/envs/minatar/seaquest.json", AGENT_CONV, 2, 0.5, 0) < 1e-6);
    CHECK(check_meta_gradient("configs/envs/minatar/seaquest.json", AGENT_CONV, 2, 0.5, 1) < 1e-6);
    CHECK(check_meta_gradient("configs/envs/minatar/breakout.json", AGENT_CONV, 3, 0.5, 1) < 1e-6);
}

/* Adam as the inner step of an MLP agent: dJ/dη through K >= 2 Adam updates (the adjoints of m and
 * v carried back, m_0 and v_0 constants), from a fresh agent and from a lifetime in progress,
 * with the rule's inputs stop-gradient and following θ_k. A fresh agent's first step is
 * α g/(|g| + ε) per parameter, curved on the scale of ε = 1e-5 in g: the differences need a
 * step of 1e-6 in η there (at 1e-3, 1e-4, 1e-5 the worst errors are 3e-1, 3e-2, 5e-6 and shrink
 * as the step does, as truncation errors do). */
TEST(metagrad_adam_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    const Inner fresh = {INNER_ADAM, 0, 1e-6, 0}, carried = {INNER_ADAM, 1, 0, 0};
    const char *chain = "configs/envs/chain_distraction.json";
    for (int input_grad = 0; input_grad <= 1; input_grad++) {
        CHECK(check_meta_gradient_with(chain, AGENT_MLP, 2, 0.01, input_grad, fresh) < 1e-6);
        CHECK(check_meta_gradient_with(chain, AGENT_MLP, 3, 0.03, input_grad, carried) < 1e-6);
    }
    CHECK(check_meta_gradient_with("configs/envs/minatar/breakout.json", AGENT_CONV, 2, 0.01, 1,
                                   carried) < 1e-6);
}

/* A window refuses Adam for a tabular agent (it takes the per-state mean SGD step). */
TEST(metagrad_adam_refused_for_tabular_agents)
{
    Setup s;
    mute_stderr();
    int rc = setup_window_full(&s, "configs/envs/tabular_sparse.json", AGENT_TABULAR, 2, 0.5, 0,
                               RULE_LPG, 0, (Inner){INNER_ADAM, 0, 0, 0});
    unmute_stderr();
    CHECK(rc == -1);
    teardown(&s);
}

/* input_grad on a tabular grid whose copies revisit states (see CHAIN_RECURRENT above). */
#define GRID_SPARSE "configs/envs/tabular_sparse.json"
#define CHAIN_MLP "configs/envs/chain_distraction.json"

/* The meta-gradient of a rule kind (LPG-V, or LPG with unconstrained y) against finite
 * differences on a tabular grid, a tabular chain and an MLP chain, K 2 and 5, input_grad off and
 * on. */
static void check_kind_everywhere(RuleMethod method, int y_raw)
{
    int ks[] = {2, 5};
    for (int i = 0; i < 2; i++)
        for (int input_grad = 0; input_grad <= 1; input_grad++) {
            CHECK(check_meta_gradient_kind(GRID_SPARSE, AGENT_TABULAR, ks[i], 0.5, input_grad,
                                           method, y_raw) < 1e-6);
            CHECK(check_meta_gradient_kind(CHAIN_RECURRENT, AGENT_TABULAR, ks[i], 0.5, input_grad,
                                           method, y_raw) < 1e-6);
            CHECK(check_meta_gradient_kind(CHAIN_MLP, AGENT_MLP, ks[i], 0.5, input_grad, method,
                                           y_raw) < 1e-6);
        }
}

/* LPG-V: the rule reads the critic's V and outputs only π̂; the meta-gradient flows through the
 * policy alone (and through π(a|s) with input_grad). K >= 2 for both agent kinds. */
TEST(metagrad_lpg_v_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    check_kind_everywhere(RULE_LPG_V, 0);
}

/* Unconstrained y and ŷ with the ½‖y - ŷ‖² loss (the no-softmax ablation). */
TEST(metagrad_raw_y_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    check_kind_everywhere(RULE_LPG, 1);
}

/* The LPG-V window's values are the critic's, from before its step on each rollout: the
 * critic's starting parameters trained on the same rollouts give the same numbers, and they
 * change over the window (the critic learns). */
TEST(metagrad_lpg_v_reads_the_critic_before_its_step)
{
    Setup s;
    const int K = 3, t_len = 4, n = 3, obs_rows = (t_len + 1) * n;
    REQUIRE(setup_window_kind(&s, CHAIN_MLP, AGENT_MLP, K, 0.5, 0, RULE_LPG_V, 0) == 0);
    memcpy(s.critic.params, s.critic0, s.critic.net.num_params * sizeof(real));
    real advantage[12];
    double moved = 0;
    for (int k = 0; k < K; k++) {
        critic_update(&s.critic, &s.window.rollout[k], (real)s.spec.gamma, 0.9, 0.5, advantage);
        const real *kept = s.window.value + (size_t)k * obs_rows;
        for (int b = 0; b < obs_rows; b++) {
            CHECK(kept[b] == s.critic.value[b]);
            moved = fmax(moved, fabs(kept[b] - s.window.value[b]));
        }
    }
    CHECK(moved > 1e-6);
    teardown(&s);
}

/* A lifetime-aware rule (rule.h: n/N and log N as two more LSTM inputs, docs/method.md §10.4):
 * the inputs are data, so the meta-gradient is the same kind of sum; its two new rows of the
 * LSTM's input weights are checked with the rest. Tabular grid and chain, MLP chain, SGD and
 * Adam carried from update 7, K 2 and 5, input_grad off and on, in a life of 40 updates. */
TEST(metagrad_lifetime_inputs_match_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    const Inner sgd = {INNER_SGD, 0, 0, 40}, adam = {INNER_ADAM, 1, 0, 40};
    int ks[] = {2, 5};
    for (int i = 0; i < 2; i++)
        for (int input_grad = 0; input_grad <= 1; input_grad++) {
            CHECK(check_meta_gradient_with(GRID_SPARSE, AGENT_TABULAR, ks[i], 0.5, input_grad,
                                           sgd) < 1e-6);
            CHECK(check_meta_gradient_with(CHAIN_RECURRENT, AGENT_TABULAR, ks[i], 0.5,
                                           input_grad, sgd) < 1e-6);
            CHECK(check_meta_gradient_with(CHAIN_MLP, AGENT_MLP, ks[i], 0.5, input_grad, sgd) <
                  1e-6);
            CHECK(check_meta_gradient_with(CHAIN_MLP, AGENT_MLP, ks[i], 0.01, input_grad, adam) <
                  1e-6);
        }
}

/* The window feeds update k of a life that had done `updates` before it the progress
 * (updates + k) / N: the last forward pass of collection is update K - 1's. With K = 5 after 6
 * updates of a 40-update life that is 10/40 = 0.25, and log 40 / log 1e5 = 0.3204 throughout. */
TEST(metagrad_window_feeds_each_update_its_progress)
{
    Setup s;
    REQUIRE(setup_window_full(&s, GRID_SPARSE, AGENT_TABULAR, 5, 0.5, 0, RULE_LPG, 0,
                              (Inner){INNER_SGD, 0, 0, 40}) == 0);
    int rows = s.rwork->n * s.rwork->t_len;
    for (int r = 0; r < rows; r++) {
        const real *x = s.rwork->x + (size_t)r * RULE_X_MAX;
        CHECK_NEAR(x[RULE_X_PROGRESS], 0.25, 0); /* exact in both precisions */
        CHECK_NEAR(x[RULE_X_LOG_LENGTH], log(40.0) / log(1e5), TOL_ROUND);
    }
    teardown(&s);
}
