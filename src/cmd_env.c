/* cmd_env.c: `lpg env <file.json>`: loads an environment file, prints its sizes, and with
 * --render plays random actions in copy 0, drawing every step as text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "env.h"
#include "env/env_minatar.h"

/* How many more layouts --render shows for procedural grids (seeds S+1 ...). */
#define EXTRA_DRAWS 3

typedef struct {
    const char *path;
    int render;
    long steps;
    uint64_t seed;
} EnvArgs;

static void print_env_usage(FILE *out)
{
    fprintf(out, "usage: lpg env <file.json> [--render] [--steps N] [--seed S]\n\n"
                 "Loads an environment file (configs/envs/*.json) and prints its kind, name and\n"
                 "sizes; for chains also the length L and good first action drawn for the seed;\n"
                 "for procedural grids the ranges and the layout drawn for the seed.\n\n"
                 "  --render     play random actions in one copy, drawing each step as text\n"
                 "               ('#' wall, 'A' agent, 'a', 'b', ... object types, '.' free;\n"
                 "               MinAtar games print their own legend); procedural grids\n"
                 "               first show the layouts of %d more seeds\n"
                 "  --steps N    how many steps --render plays (default 10)\n"
                 "  --seed S     the environment seed (default 0)\n", EXTRA_DRAWS);
}

static int parse_count(const char *option, const char *text, unsigned long long max,
                       unsigned long long *out)
{
    if (parse_unsigned(text, max, out))
        return lpg_error("env: %s: expected an integer in [0, %llu], got '%s'", option, max, text);
    return 0;
}

static int parse_env_args(int argc, char **argv, EnvArgs *args)
{
    memset(args, 0, sizeof *args);
    args->steps = 10;
    const char *steps = NULL, *seed = NULL;
    const CommandFlag flags[] = {
        {"--render", NULL, &args->render}, {"--steps", &steps, NULL}, {"--seed", &seed, NULL}};
    CommandArgs words;
    unsigned long long value;
    if (command_args_parse("env", "environment file", argc, argv, flags, 3, 0, &words))
        return -1;
    args->path = words.path;
    if (steps) {
        if (parse_count("--steps", steps, 1000000ull, &value))
            return -1;
        args->steps = (long)value;
    }
    if (seed && parse_count("--seed", seed, UINT64_MAX, &value))
        return -1;
    if (seed)
        args->seed = value;
    return 0;
}

static void print_grid_summary(const EnvSpec *spec)
{
    int walls = 0;
    for (int c = 0; c < spec->width * spec->height; c++)
        walls += spec->wall[c];
    printf("grid: %dx%d, %d moves, %d wall cells, ", spec->width, spec->height, spec->moves, walls);
    if (spec->start_cell >= 0)
        printf("start (%d, %d)\n", spec->start_cell % spec->width, spec->start_cell / spec->width);
    else
        printf("random start\n");
    for (int t = 0; t < spec->num_types; t++) {
        int count = 0;
        for (int j = 0; j < spec->num_objects; j++)
            count += spec->object_type[j] == t;
        const ObjectType *type = &spec->type[t];
        printf("objects '%c': %d x (reward %+g, p_end %g, p_respawn %g)\n", 'a' + t, count,
               type->reward, type->p_end, type->p_respawn);
    }
}

static void print_ranges(const EnvProcRanges *r)
{
    printf("ranges: width [%d, %d], height [%d, %d], object types [%d, %d], reward [%g, %g] "
           "(the first type's from max(lo, 0)), p_end [%g, %g] and p_respawn [%g, %g] "
           "log-uniform, walls tried [%d, %d], max_steps [%d, %d] log-uniform\n",
           r->width[0], r->width[1], r->height[0], r->height[1], r->types[0], r->types[1],
           r->reward[0], r->reward[1], r->p_end[0], r->p_end[1], r->p_respawn[0],
           r->p_respawn[1], r->walls[0], r->walls[1], r->max_steps[0], r->max_steps[1]);
}

/* The layout a procedural batch drew: its grid summary and step limit. */
static void print_layout(const EnvBatch *batch)
{
    printf("layout drawn for seed %llu: ", (unsigned long long)batch->layout_seed);
    print_grid_summary(batch->spec);
    printf("layout max_steps: %d\n", batch->spec->max_steps);
}

static void print_minatar_summary(const EnvSpec *spec)
{
    const MinatarGame *game = minatar_game(spec->game);
    printf("game: %s (10x10 board, %d channels, channel-major)\nchannels:", game->name,
           game->channels);
    for (int ch = 0; ch < game->channels; ch++)
        printf(" %s", game->channel_names[ch]);
    printf("\nsticky: %g\nramping: %s\n", spec->sticky, spec->ramping ? "yes" : "no");
}

static void print_summary(const EnvSpec *spec, const EnvBatch *batch, uint64_t seed)
{
    printf("name: %s\nkind: %s\nfile: %s\n", spec->name, env_kind_name(spec->kind), spec->path);
    printf("num_actions: %d\n", spec->num_actions);
    if (spec->num_states > 0)
        printf("num_states: %d\n", spec->num_states);
    else
        printf("obs_dim: %d\n", spec->obs_dim);
    printf("gamma: %g\nmax_steps: %d\n", spec->gamma, spec->max_steps);
    if (batch->family) {
        print_ranges(&spec->proc);
        print_layout(batch);
        return;
    }
    if (spec->kind == ENV_MINATAR) {
        print_minatar_summary(spec);
        return;
    }
    if (spec->kind != ENV_CHAIN) {
        print_grid_summary(spec);
        return;
    }
    printf("chain_length: %d (drawn for seed %llu from [%d, %d])\n", batch->chain_length,
           (unsigned long long)seed, spec->length_min, spec->length_max);
    printf("good_action: %d\nnoisy: %s\ndistraction_bits: %d\n", batch->chain_good_action,
           spec->noisy ? "yes" : "no", spec->distraction_bits);
}

/* Plays random actions in a one-copy batch, drawing the state after each step. */
static void play_random_steps(EnvBatch *batch, long steps, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, RNG_STREAM_RENDER);
    printf("\nstep 0 (start)\n");
    env_render(batch, 0, stdout);
    for (long t = 1; t <= steps; t++) {
        int32_t action = (int32_t)rng_below(&rng, (uint32_t)batch->spec->num_actions);
        env_batch_step(batch, &action);
        printf("\nstep %ld: action %s, reward %g, done %d\n", t,
               env_action_name(batch->spec, action), (double)batch->reward[0], batch->done[0]);
        env_render(batch, 0, stdout);
    }
}

/* The layouts of seeds seed+1 .. seed+EXTRA_DRAWS, each at the start of an episode. */
static int show_more_layouts(const EnvSpec *spec, uint64_t seed)
{
    for (int d = 1; d <= EXTRA_DRAWS; d++) {
        EnvBatch batch;
        if (env_batch_init(&batch, spec, 1, seed + (uint64_t)d))
            return -1;
        printf("\n");
        print_layout(&batch);
        env_render(&batch, 0, stdout);
        env_batch_free(&batch);
    }
    printf("\nrandom steps in the layout of seed %llu:\n", (unsigned long long)seed);
    return 0;
}

int cmd_env(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        print_env_usage(stdout);
        return 0;
    }
    EnvArgs args;
    if (parse_env_args(argc, argv, &args))
        return 2;
    EnvSpec spec;
    EnvBatch batch;
    if (env_load(args.path, &spec) || env_batch_init(&batch, &spec, 1, args.seed))
        return 1;
    print_summary(&spec, &batch, args.seed);
    int rc = args.render && batch.family ? show_more_layouts(&spec, args.seed) : 0;
    if (args.render && rc == 0)
        play_random_steps(&batch, args.steps, args.seed);
    env_batch_free(&batch);
    return rc ? 1 : 0;
}
