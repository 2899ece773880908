/* rule.h: the learned update rule η (docs/method.md §3), a backward-in-time LSTM.
 *
 * For a batch of n trajectories of t_len steps the rule reads, at each step t,
 *     x_t = [r_t, d_t, γ, π(a_t|s_t), φ(y_t), φ(y'_t)]
 * where φ is a small shared MLP (30 -> 16 tanh -> 1) embedding a prediction vector, and φ(y'_t)
 * is zeroed where the episode ended at t. The LSTM runs from t = t_len-1 down to 0, starting from
 * a zero state, and zeroes the state coming from t+1 when d_t = 1 (step t+1 belongs to the next
 * episode). Heads on its output h_t give π̂_t = w·h_t + b and ŷ_t = softmax(W h_t + b).
 *
 * Data layout: every per-step array is time-major, element (t, i) of trajectory i at index
 * t*n + i, the order in which a batched rollout writes it; a vector per step (y, ŷ: 30 reals)
 * sits at (t*n + i)*30.
 * All parameters of η are one flat real array described by a RuleLayout; all activations live
 * in a RuleWork allocated once for the largest batch. Matrices are row-major [rows x cols].
 *
 * Gradients: the backward pass accumulates (+=) dη into a flat array of the same layout; callers
 * zero it once per meta-step. The method treats the inputs as constants (stop-gradient) by
 * default (docs/method.md §6); on request rule_backward also returns the gradient wrt the inputs
 * that depend on the agent, π(a_t|s_t), y_t and y'_t (through the LSTM's input weights, φ, and
 * the zeroing of φ(y') at episode ends): the meta-gradient's optional path through the inputs'
 * dependence on θ_k (metagrad.h, input_grad). r, d and γ are data and get none.
 *
 * Kinds of rule (RuleLayout.method, y_raw; docs/method.md §12):
 * - LPG (the default): as above.
 * - LPG-V: the rule reads a value v(s_t), v(s_{t+1}) (a TD(λ) value the agent learns, critic.h)
 *   in the two slots of φ(y), φ(y'), v(s_{t+1}) zeroed where the episode ended as φ(y') is; it
 *   outputs only π̂ (ŷ is not computed, φ and the ŷ head are unused parameters whose gradient is
 *   zero). The value does not depend on η, so it gets no input gradient.
 * - y_raw (an ablation): ŷ_t = W h_t + b without the softmax, and y is the agent's raw y output
 *   (no softmax either); the agent then descends the mean squared error (1/2m)‖y - ŷ‖² in place
 *   of KL(y ‖ ŷ) (agent_loss.h). */
#ifndef LPG_RULE_H
#define LPG_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "real.h"
#include "rng.h"

#define RULE_Y_DIM 30      /* m: categories of the agent's prediction y */
#define RULE_PHI_HIDDEN 16 /* hidden width of the embedding φ */
#define RULE_X_DIM 6       /* LSTM input: r, d, γ, π(a|s), φ(y), φ(y') */
#define RULE_X_MAX 8       /* ... and, for a lifetime-aware rule, n/N and log N */

/* Where each input sits in the LSTM's input row x_t [layout x_dim]. A lifetime-aware rule
 * (RuleLayout.lifetime_inputs, docs/method.md §10.4) also reads the agent's progress through its
 * life, n/N (n updates done of N), and the life's length log N / log RULE_LOG_LENGTH_MAX. */
enum {
    RULE_X_REWARD, RULE_X_DONE, RULE_X_GAMMA, RULE_X_PI_TAKEN, RULE_X_PHI_Y, RULE_X_PHI_Y_NEXT,
    RULE_X_PROGRESS, RULE_X_LOG_LENGTH
};
_Static_assert(RULE_X_PHI_Y_NEXT + 1 == RULE_X_DIM, "one slot per LSTM input");
_Static_assert(RULE_X_LOG_LENGTH + 1 == RULE_X_MAX, "one slot per lifetime input");
#define RULE_LOG_LENGTH_MAX 1e5 /* lifetimes of 1e5 updates read log N = 1 */

/* The parameter groups of η, in their order in the flat array. Shapes (row-major):
 * phi_w1 [30 x 16], phi_b1 [16], phi_w2 [16], phi_b2 [1], lstm_wx [x_dim x 4H],
 * lstm_wh [H x 4H], lstm_b [4H] (gate blocks in the order i, f, g, o), pi_w [H], pi_b [1],
 * y_w [H x 30], y_b [30]. rule_group_names holds their names (gradcheck's lines, the tests). */
typedef enum {
    RULE_GROUP_PHI_W1, RULE_GROUP_PHI_B1, RULE_GROUP_PHI_W2, RULE_GROUP_PHI_B2,
    RULE_GROUP_LSTM_WX, RULE_GROUP_LSTM_WH, RULE_GROUP_LSTM_B,
    RULE_GROUP_PI_W, RULE_GROUP_PI_B, RULE_GROUP_Y_W, RULE_GROUP_Y_B,
    RULE_GROUPS
} RuleGroup;
extern const char *const rule_group_names[RULE_GROUPS];

typedef enum { RULE_LPG = 0, RULE_LPG_V = 1 } RuleMethod;
extern const char *const rule_method_names[]; /* "lpg", "lpg_v", NULL: the meta-train key method */
_Static_assert(sizeof(RuleMethod) == sizeof(int), "a config stores it as an int");

typedef struct {
    int hidden; /* H, the LSTM width */
    RuleMethod method;  /* LPG or LPG-V (see the top of this file) */
    int y_raw;          /* LPG: 1 when y and ŷ are unconstrained (no softmax, L2 loss) */
    int lifetime_inputs; /* 1: the LSTM also reads n/N and log N (x_dim 8, else 6) */
    int x_dim;          /* the LSTM's input width */
    /* LPG-V: how the agent's value learns (critic.h), part of the rule: SGD step for MLP agents,
     * tabular step (fraction of the way per update) and λ of its TD(λ) targets. */
    double value_lr, value_tabular_lr, value_lambda;
    /* Where each group starts in η (offsets in reals), by name or as at[RuleGroup]; group g
     * spans at[g] .. at[g + 1], and at[RULE_GROUPS] is count, the number of reals in η. */
    union {
        struct {
            size_t phi_w1, phi_b1, phi_w2, phi_b2;
            size_t lstm_wx, lstm_wh, lstm_b;
            size_t pi_w, pi_b, y_w, y_b;
            size_t count;
        };
        size_t at[RULE_GROUPS + 1];
    };
} RuleLayout;
_Static_assert(offsetof(RuleLayout, count) == offsetof(RuleLayout, at[RULE_GROUPS]),
               "one offset per group, then the count");
_Static_assert(offsetof(RuleLayout, lstm_wx) == offsetof(RuleLayout, at[RULE_GROUP_LSTM_WX]),
               "the names follow the groups' order");

/* The inputs for n trajectories of t_len steps (time-major, see above). Not owned. */
typedef struct {
    const real *reward;    /* [t_len*n] r_t */
    const uint8_t *done;   /* [t_len*n] d_t: 1 if the episode ended at step t */
    const real *gamma;     /* [n] discount of each trajectory's environment */
    const real *pi_taken;  /* [t_len*n] π(a_t|s_t), the probability of the action taken */
    const real *y;         /* [t_len*n*30] y(s_t) */
    const real *y_next;    /* [t_len*n*30] y(s_{t+1}); unused where d_t = 1, but must be finite */
    /* LPG-V only (y and y_next are then not read): v(s_t) [t_len*n] and v(s_{t+1}) [t_len*n],
     * the latter unused where d_t = 1 but finite. */
    const real *value, *value_next;
    /* A lifetime-aware rule only: n/N and log N / log RULE_LOG_LENGTH_MAX, the same for every
     * step (rule_input_set_lifetime). */
    real lifetime[2];
} RuleInput;

/* Activations of one forward pass and scratch for its backward pass, for up to max_n
 * trajectories of up to max_t steps. One allocation (mem); rule_work_free releases it.
 * The outputs pi_hat, y_hat and log_y_hat are valid until the next rule_forward. */
typedef struct {
    int hidden, max_n, max_t;
    int x_dim;                 /* the layout's LSTM input width */
    int n, t_len;              /* sizes of the last forward pass */
    RuleMethod method;         /* the last forward's kind of rule (layout) */
    int y_raw;
    const uint8_t *done;       /* the last forward's done flags (not owned) */
    const real *y, *y_next;    /* the last forward's y inputs (not owned) */

    /* Outputs, [t_len*n] and [t_len*n*30], time-major. LPG-V: only pi_hat. y_raw: y_hat holds
     * the unconstrained ŷ and log_y_hat is not written. */
    real *pi_hat, *y_hat, *log_y_hat;

    /* Forward activations (rows = t_len*n, time-major). */
    real *phi_hidden;      /* [2 x rows x 16] tanh layer of φ, for y then y' */
    real *phi_out;         /* [2 x rows] φ(y), φ(y') (before φ(y') is zeroed at episode ends) */
    real *x;               /* [rows x x_dim] LSTM inputs */
    real *gates;           /* [rows x 4H] gate activations i, f, g, o (after σ / tanh) */
    real *cell, *tanh_cell, *h;  /* [rows x H] c_t, tanh(c_t), h_t */
    real *h_in, *cell_in;  /* [rows x H] the state entering step t (after the reset) */

    /* Backward scratch. */
    real *dlogits;         /* [rows x 30] */
    real *dh;              /* [rows x H] gradient into h_t from the heads */
    real *dgates;          /* [rows x 4H] gradient into the gate pre-activations */
    real *dh_carry, *dcell_carry; /* [n x H] gradient flowing to step t+1 */
    real *dx;              /* [rows x x_dim] */
    real *dphi;            /* [2 x rows] */
    real *dphi_hidden;     /* [rows x 16] */
    real *mem;
} RuleWork;

/* Fills layout for an LSTM of width hidden, a rule of kind LPG (method RULE_LPG, y_raw 0); set
 * method, y_raw and the value settings after it for the other kinds. */
void rule_layout(RuleLayout *layout, int hidden);

/* The same for a rule that reads the lifetime inputs when lifetime_inputs is 1 (its LSTM input
 * weights have two more rows, so the offsets after them move). */
void rule_layout_lifetime(RuleLayout *layout, int hidden, int lifetime_inputs);

/* Sets in's lifetime inputs for an agent that has done `updates` of the `length` updates of its
 * life (length >= 1): n/N, clamped to [0, 1], and log N / log RULE_LOG_LENGTH_MAX. */
void rule_input_set_lifetime(RuleInput *in, int64_t updates, int64_t length);

/* "lpg", "lpg_v" or "lpg_raw_y": the kind's name (config key method, rule files, messages). */
const char *rule_kind_name(const RuleLayout *layout);

/* Initialises eta [layout->count] from rng: weights normal / sqrt(fan_in), biases zero except
 * the forget gate's (1). Deterministic for a given rng state. */
void rule_init(real *eta, const RuleLayout *layout, Rng *rng);

/* Allocates a workspace for up to max_n trajectories of up to max_t steps (NULL after
 * reporting if out of memory). The caller frees it with rule_work_free. */
RuleWork *rule_work_create(const RuleLayout *layout, int max_n, int max_t);
/* The bytes rule_work_create allocates for those sizes (the memory estimate's figure). */
size_t rule_work_bytes(const RuleLayout *layout, int max_n, int max_t);
void rule_work_free(RuleWork *work);

/* Runs η on n trajectories of t_len steps (n <= max_n, t_len <= max_t). Results go to
 * work->pi_hat, work->y_hat, work->log_y_hat; the activations stay in work for rule_backward,
 * which also keeps pointers to in->done, in->y and in->y_next (they must stay unchanged). */
void rule_forward(RuleWork *work, const real *eta, const RuleLayout *layout, const RuleInput *in,
                  int n, int t_len);

/* The gradient wrt the rule's agent-dependent inputs (t_len*n rows, time-major as RuleInput).
 * The arrays are the caller's. */
typedef struct {
    real *pi_taken; /* [t_len*n] ∂J/∂π(a_t|s_t) */
    real *y;        /* [t_len*n*30] ∂J/∂y(s_t) */
    real *y_next;   /* [t_len*n*30] ∂J/∂y(s_{t+1}); zero where d_t = 1 (φ(y') is zeroed there) */
} RuleInputGrad;

/* Backpropagates the last forward pass: given dpi_hat [t_len*n] = ∂J/∂π̂ and dlog_y_hat
 * [t_len*n*30] = ∂J/∂log ŷ (= ŷ ⊙ ∂J/∂ŷ; objectives written in log ŷ then need no division by
 * a tiny ŷ; for a y_raw rule it is ∂J/∂ŷ itself), ADDS ∂J/∂η to d_eta [layout->count]. Either
 * upstream pointer may be NULL (no gradient from that head; LPG-V: dlog_y_hat is not read).
 * When d_in is not NULL it also WRITES ∂J/∂ of the inputs pi_taken, y and y_next of the last
 * forward pass into d_in's arrays (LPG-V: pi_taken only); with d_in NULL that costs nothing. */
void rule_backward(RuleWork *work, real *d_eta, const real *eta, const RuleLayout *layout,
                   const real *dpi_hat, const real *dlog_y_hat, const RuleInputGrad *d_in);

/* The L2 penalty on the rule's outputs (docs/method.md §5) over rows = t_len*n steps:
 * returns beta_pi Σ π̂² + beta_y Σ ‖ŷ‖² (LPG-V: no ŷ term; y_hat is not read). */
double rule_l2_penalty(const RuleLayout *layout, const real *pi_hat, const real *y_hat, int rows,
                       double beta_pi, double beta_y);

/* Adds scale * the gradient of rule_l2_penalty wrt π̂ to dpi_hat [rows] and wrt log ŷ (y_raw:
 * wrt ŷ) to dlog_y_hat [rows*30], ready for rule_backward (scale = -1 for a penalty subtracted
 * from J; fold a batch mean in too). LPG-V: dlog_y_hat is not touched. */
void rule_l2_backward(const RuleLayout *layout, real *dpi_hat, real *dlog_y_hat,
                      const real *pi_hat, const real *y_hat, int rows, double beta_pi,
                      double beta_y, double scale);

#endif
