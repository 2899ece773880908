/* agent.h: the agent network θ (docs/method.md §2) and every derivative of it the project needs.
 *
 * The agent maps an observation to one row of outputs
 *     out[b * num_outputs + j]:  j in [0, A)        action logits (π = softmax)
 *                                j in [A, A+m)      prediction logits (y = softmax), m may be 0
 *                                j == A+m           value, only when has_value
 * (A = num_actions, m = num_y; y_offset = A, value_offset = A+m, num_outputs = A+m+has_value).
 *
 * Three kinds behind one interface:
 * - AGENT_TABULAR: the observation is a state index s in [0, num_states); θ is the matrix
 *   [num_states x num_outputs], row s being exactly the outputs for s. Rows start at zero
 *   (uniform π and y) unless tabular_init_std > 0.
 * - AGENT_MLP: the observation is a vector x of obs_dim reals; hidden layers z = a W + b,
 *   a' = relu(z), then one linear layer producing all outputs. Layer l has weight [in x out]
 *   row-major at theta + layout.weight[l] and bias [out] at theta + layout.bias[l]. Init: hidden
 *   weights normal with std sqrt(2/fan_in) (He), output weights normal with std
 *   0.1/sqrt(fan_in) (near-uniform π and y at the start), biases zero.
 * - AGENT_CONV: the observation is an image of in_planes planes of in_height x in_width,
 *   plane-major (element (plane * in_height + y) * in_width + x); a convolution of conv_filters
 *   3x3 filters, stride 1, no padding ("valid": the output is (in_height - 2) x (in_width - 2)
 *   positions), relu, then the MLP above on the flattened [positions x filters] activations.
 *   The convolution is layer 0 of the MLP's chain: a dense layer [in_planes*9 x conv_filters]
 *   applied to every 3x3 patch (im2col, AgentWork.patches), so one gemm of batch * positions
 *   rows. Patch column (plane * 3 + dy) * 3 + dx; activation row b, column
 *   (oy * out_width + ox) * conv_filters + f.
 *
 * θ, gradients and tangents are flat real arrays of num_params reals with the same layout; the
 * caller owns them. An Agent only describes sizes and offsets, so one Agent serves θ_0..θ_K,
 * gradients and tangents alike. Scratch (activations, tangents) lives in an AgentWork allocated
 * once for a maximum batch; use one AgentWork per thread. All matrices are row-major; each MLP
 * layer is one gemm for the whole batch.
 *
 * Derivatives, for a batch of B observations (call order matters, see each function):
 *   agent_forward            out = f(θ)
 *   agent_backward           dθ += J(θ)ᵀ g                                 (g = ∂L/∂out)
 *   agent_forward_tangent    δout = J(θ) v                                  (JVP)
 *   agent_backward_tangent   hv += d/dε [J(θ+εv)ᵀ (g + ε δg)] at ε = 0      (Pearlmutter's R-op)
 * For L(θ) = Σ_b f_b(out_b): H v = agent_backward_tangent(v, g = ∇f, δg = ∇²f · δout) with
 * δout = agent_forward_tangent(v). agent_loss.h does this for the LPG loss (Eq. 2). */
#ifndef LPG_AGENT_H
#define LPG_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "real.h"
#include "rng.h"

#define AGENT_MAX_HIDDEN 4 /* hidden layers of the MLP */
#define AGENT_MAX_LAYERS (AGENT_MAX_HIDDEN + 2) /* linear layers: convolution, hidden, output */
#define AGENT_CONV_FILTERS 16 /* filters of the config's "conv" agent (MinAtar's baselines) */
#define AGENT_CONV_KERNEL 3   /* filter side */

typedef enum { AGENT_TABULAR, AGENT_MLP, AGENT_CONV } AgentKind;

/* What the caller chooses (e.g. from a config and an EnvSpec). */
typedef struct {
    AgentKind kind;
    int num_states;                /* tabular: rows of θ */
    int obs_dim;                   /* MLP, conv: input length */
    int conv_filters;              /* conv: filters (>= 1) */
    int in_planes, in_height, in_width; /* conv: image shape, product obs_dim, sides >= 3 */
    int num_hidden;                /* MLP, conv: hidden layers, 0..AGENT_MAX_HIDDEN (0: linear) */
    int hidden[AGENT_MAX_HIDDEN];  /* MLP, conv: their widths */
    int num_actions;               /* A >= 1, or 0 for a value-only network (has_value) */
    int num_y;                     /* m >= 0 (30 for LPG, 0 when y is unused) */
    int has_value;                 /* 1: a value output after the y logits */
    double tabular_init_std;       /* tabular: std of the initial rows (0: all zero) */
} AgentSpec;

/* Sizes and where each parameter group starts in θ (offsets in reals). */
typedef struct {
    AgentSpec spec;
    int num_actions, num_y, has_value;
    int y_offset, value_offset, num_outputs; /* the output row, see the file comment */
    int num_layers;                       /* MLP: num_hidden + 1; conv: num_hidden + 2 */
    int layer_in[AGENT_MAX_LAYERS];       /* input width of layer l (per row) */
    int layer_out[AGENT_MAX_LAYERS];      /* output width of layer l (per row) */
    int layer_rows[AGENT_MAX_LAYERS];     /* rows of layer l per observation: 1, or the
                                             convolution's positions */
    size_t weight[AGENT_MAX_LAYERS];      /* offset of layer l's [in x out] weights */
    size_t bias[AGENT_MAX_LAYERS];        /* offset of layer l's [out] bias */
    int out_height, out_width;            /* conv: the convolution's output positions */
    size_t num_params;
} Agent;

/* A batch of observations, not owned: index [B] for tabular agents, x [B * obs_dim] for MLP and
 * conv agents (the other pointer is ignored and may be NULL). */
typedef struct {
    const int32_t *index;
    const real *x;
} AgentObs;

/* Scratch for batches of up to max_batch observations; one allocation (mem, buffers.h).
 * act/tangent/grad/grad_tangent hold, per layer before the output, relu activations, their
 * tangents, the gradient and its tangent at the pre-activations ([max_batch x layer_rows[l] x
 * layer_out[l]] each). patches (conv) holds the last forward's im2col matrix [max_batch x
 * positions x in_planes*9]. out, dout, out_tangent, dout_tangent ([max_batch x num_outputs])
 * are free for callers and lpg_loss_hvp. pi, y, lse_pi and lse_y hold the softmaxes of out that
 * agent_softmax computes, once for the loss, its derivatives and the rule's inputs
 * (agent_loss.h). */
typedef struct {
    int max_batch;
    real *act[AGENT_MAX_LAYERS - 1];
    real *tangent[AGENT_MAX_LAYERS - 1];
    real *grad[AGENT_MAX_LAYERS - 1];
    real *grad_tangent[AGENT_MAX_LAYERS - 1];
    real *patches;
    real *out, *dout, *out_tangent, *dout_tangent;
    real *pi, *y;          /* [max_batch x A], [max_batch x m]: softmax of the action, y logits */
    real *lse_pi, *lse_y;  /* [max_batch]: log Σ_j exp of the action logits, of the y logits */
    int32_t *visits;  /* tabular: [num_states] scratch of agent_per_state_mean, agent_touched */
    int32_t *touched; /* [max_batch] the rows agent_touched lists */
    void *mem;       /* the one allocation behind every buffer above (buffers.h) */
} AgentWork;

/* Checks MLP hidden widths from a config (the key mlp_hidden): at most AGENT_MAX_HIDDEN layers.
 * `where` names the config in the message. Returns 0 or -1 (reported). */
int agent_check_hidden(int count, const char *where);

/* The agent a config chooses (the key agent), in the order of agent_choice_names. */
typedef enum { AGENT_CHOICE_MLP, AGENT_CHOICE_CONV } AgentChoice;
extern const char *const agent_choice_names[]; /* "mlp", "conv", NULL */

/* The filters of the convolution a choice puts first: 0 for "mlp", AGENT_CONV_FILTERS for
 * "conv". */
int agent_choice_filters(int choice);

/* With conv_filters > 0, checks that at least one of the count environments has image
 * observations (EnvSpec.obs_planes > 0), else reports "<where>: key 'agent': ..." and returns -1. */
int agent_check_kind(int conv_filters, const EnvSpec *envs, int count, const char *where);

/* Fills an AgentSpec for an environment: a tabular agent where it observes a state index; with
 * conv_filters > 0 a conv agent (that many filters) where it observes images; else an MLP; the
 * given hidden widths; num_y prediction logits and a value output when has_value. Returns 0, or
 * -1 after reporting. */
int agent_spec_for_env(AgentSpec *spec, const EnvSpec *env, int conv_filters,
                       const int *hidden, int num_hidden, int num_y, int has_value);

/* Validates spec and fills agent's sizes and layout. Returns 0, or -1 after reporting. */
int agent_setup(Agent *agent, const AgentSpec *spec);

/* Writes initial parameters theta [num_params] (see the file comment), drawing from rng. */
void agent_init_params(const Agent *agent, real *theta, Rng *rng);

/* Allocates scratch for batches of up to max_batch. Returns 0, or -1 after reporting; free
 * with agent_work_free (safe on a zeroed or freed AgentWork). */
int agent_work_init(AgentWork *work, const Agent *agent, int max_batch);
void agent_work_free(AgentWork *work);

/* The bytes agent_work_init allocates for max_batch. */
size_t agent_work_bytes(const Agent *agent, int max_batch);

/* Tabular agents: multiplies each row s of vec [num_params] that the batch visits by
 * batch / visits(s), turning a batch-mean gradient into a per-state mean (each state's row then
 * moves at the same rate however rarely it is visited). MLP and conv agents: does nothing. The factors
 * are constants of the batch, so an update using them stays smooth in everything else. */
void agent_per_state_mean(const Agent *agent, AgentWork *work, AgentObs obs, int batch, real *vec);

/* The part of θ a batch reads and writes: count runs of len reals, run r starting at
 * row[r] * len. A tabular agent's batch touches the rows of the states it visits (len =
 * num_outputs); an MLP's, all of θ (one run). */
typedef struct {
    const int32_t *row;
    int count;
    size_t len;
} ParamRows;

/* The ParamRows of a batch (listed in work->touched, valid until the next call): the parameters
 * that agent_backward and agent_backward_tangent add to and agent_forward_tangent reads from v,
 * so a vector over θ that only those touch needs no pass over the rest. */
ParamRows agent_touched(const Agent *agent, AgentWork *work, AgentObs obs, int batch);

/* Over the runs of rows: v = 0; dst = src; y += a x. */
void param_rows_zero(const ParamRows *rows, real *v);
void param_rows_copy(const ParamRows *rows, real *dst, const real *src);
void param_rows_axpy(const ParamRows *rows, real *y, real a, const real *x);

/* The observations first..: obs advanced by first rows (to slice a [T x n] rollout by step). */
AgentObs agent_obs_offset(const Agent *agent, AgentObs obs, int first);

/* Writes out [batch x num_outputs] for θ; keeps in work what the other functions need. */
void agent_forward(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                   int batch, real *out);

/* Fills work->pi, y, lse_pi and lse_y for the first batch rows of work->out (the softmax of each
 * row's action logits and of its y logits, and their log-sum-exps). */
void agent_softmax(const Agent *agent, AgentWork *work, int batch);

/* ADDS ∂L/∂θ to dtheta [num_params] given dout = ∂L/∂out [batch x num_outputs]. Needs the last
 * agent_forward on work to have been for the same theta and obs and this batch or a larger one
 * (the first rows of a forward pass serve a backward pass over fewer rows). */
void agent_backward(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                    int batch, const real *dout, real *dtheta);

/* Writes out_tangent [batch x num_outputs], the derivative of the outputs along v [num_params].
 * Needs the last agent_forward on work to have been for the same theta, obs and batch; keeps
 * the hidden tangents in work for agent_backward_tangent. */
void agent_forward_tangent(const Agent *agent, AgentWork *work, const real *theta,
                           const real *v, AgentObs obs, int batch, real *out_tangent);

/* ADDS d/dε of agent_backward(θ + ε v, dout + ε dout_tangent) at ε = 0 to hv [num_params].
 * Needs agent_forward and then agent_forward_tangent (same theta, v, obs, batch) last on work.
 * It does not add the gradient itself; call agent_backward for that. */
void agent_backward_tangent(const Agent *agent, AgentWork *work, const real *theta,
                            const real *v, AgentObs obs, int batch, const real *dout,
                            const real *dout_tangent, real *hv);

#endif
