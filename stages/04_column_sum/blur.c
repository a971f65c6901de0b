/*
 * The blurring measurement (see blur.h). A trial draws the component's
 * direction u, the other n - 1 unit vectors and the M - 1 distractors once,
 * and reduces them to dot products; every dominance D then follows from
 * s = D u + S, with S the sum of the others, without drawing again.
 */
#include "04_column_sum/blur.h"

#include <math.h>
#include <stdlib.h>

#include "rng.h"

/* Fills v [width] with a uniformly random direction: Gaussian draws scaled to length 1. */
static void draw_direction(Rng *rng, float *v, int width)
{
    double norm2 = 0.0;
    for (int j = 0; j < width; j++) {
        v[j] = rng_normal(rng);
        norm2 += (double)v[j] * v[j];
    }

    /* A zero draw has probability zero; if it happens, the vector stays zero. */
    float scale = norm2 > 0.0 ? (float)(1.0 / sqrt(norm2)) : 0.0f;
    for (int j = 0; j < width; j++)
        v[j] *= scale;
}

/* Returns the dot product of a [width] and b [width], in double. */
static double dot(const float *a, const float *b, int width)
{
    double sum = 0.0;
    for (int j = 0; j < width; j++)
        sum += (double)a[j] * b[j];
    return sum;
}

/* Trials drawn together; each has its own workspace, so a chunk runs in parallel. */
#define BLUR_CHUNK 256

/* The dot products one trial needs; everything else about the vectors is not used. */
typedef struct TrialDots {
    double u_others;  /* u . S */
    double others2;   /* S . S */
    double *d_u;      /* [M - 1] distractor . u */
    double *d_others; /* [M - 1] distractor . S */
} TrialDots;

/* Draws trial @p trial into @p dots, using @p scratch [3 * width] as workspace. */
static void draw_trial(const BlurConfig *config, int count, uint64_t trial, float *scratch,
                       TrialDots *dots)
{
    int d = config->width;
    float *u = scratch, *v = scratch + d, *others = scratch + 2 * d;
    Rng rng;
    rng_seed(&rng, config->seed, trial);

    /* 1. The component's direction u, then S, the sum of the other n - 1 unit vectors. */
    draw_direction(&rng, u, d);
    for (int j = 0; j < d; j++)
        others[j] = 0.0f;
    for (int i = 1; i < count; i++) {
        draw_direction(&rng, v, d);
        for (int j = 0; j < d; j++)
            others[j] += v[j];
    }
    dots->u_others = dot(u, others, d);
    dots->others2 = dot(others, others, d);

    /* 2. The M - 1 distractors of the codebook, which are not part of the sum. */
    for (int m = 0; m < config->codebook - 1; m++) {
        draw_direction(&rng, v, d);
        dots->d_u[m] = dot(v, u, d);
        dots->d_others[m] = dot(v, others, d);
    }
}

/*
 * Scores one trial at dominance D, where s = D u + S:
 * s.u = D + u.S and |s|^2 = D^2 + 2 D u.S + S.S, so cos(s, u) = s.u / |s|;
 * distractor m has s.c_m = D (c_m . u) + c_m . S. Every codebook entry has
 * length 1, so the nearest by cosine is the one with the largest s.c.
 */
static void score_trial(const TrialDots *dots, int distractors, double D, double *cosine,
                        bool *retrieved)
{
    double s_u = D + dots->u_others;
    double s2 = D * D + 2.0 * D * dots->u_others + dots->others2;
    *cosine = s2 > 0.0 ? s_u / sqrt(s2) : 0.0;

    *retrieved = true;
    for (int m = 0; m < distractors; m++)
        if (D * dots->d_u[m] + dots->d_others[m] >= s_u)
            *retrieved = false;
}

/* Returns whether the arguments of blur_measure are in range. */
static bool blur_arguments_valid(const BlurConfig *config, int count, const double *dominances,
                                 int dominance_count)
{
    if (config->width < 1 || config->codebook < 2 || config->trials < 1 || count < 1 ||
        dominance_count < 1)
        return false;
    for (int i = 0; i < dominance_count; i++)
        if (!(dominances[i] >= 1.0) || !isfinite(dominances[i]))
            return false;
    return true;
}

bool blur_measure(const BlurConfig *config, int count, const double *dominances,
                  int dominance_count, BlurPoint *points)
{
    if (!blur_arguments_valid(config, count, dominances, dominance_count))
        return false;

    /* Workspace for one chunk of trials: vectors, distractor dot products, per-trial scores. */
    int distractors = config->codebook - 1;
    size_t per_trial = 3 * (size_t)config->width;
    float *scratch = malloc(BLUR_CHUNK * per_trial * sizeof *scratch);
    double *dot_space = malloc(BLUR_CHUNK * 2 * (size_t)distractors * sizeof *dot_space);
    double *cosines = malloc(BLUR_CHUNK * (size_t)dominance_count * sizeof *cosines);
    bool *hits = malloc(BLUR_CHUNK * (size_t)dominance_count * sizeof *hits);
    double *cosine_sum = calloc((size_t)dominance_count, sizeof *cosine_sum);
    long *hit_count = calloc((size_t)dominance_count, sizeof *hit_count);
    bool ok = scratch && dot_space && cosines && hits && cosine_sum && hit_count;

    for (int first = 0; ok && first < config->trials; first += BLUR_CHUNK) {
        int chunk = config->trials - first < BLUR_CHUNK ? config->trials - first : BLUR_CHUNK;

        /* 1. Draw and score each trial of the chunk; trials are independent. */
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
        for (int t = 0; t < chunk; t++) {
            TrialDots dots = {.d_u = dot_space + (size_t)t * 2 * (size_t)distractors};
            dots.d_others = dots.d_u + distractors;
            draw_trial(config, count, (uint64_t)(first + t), scratch + (size_t)t * per_trial,
                       &dots);
            for (int i = 0; i < dominance_count; i++)
                score_trial(&dots, distractors, dominances[i],
                            &cosines[(size_t)t * dominance_count + i],
                            &hits[(size_t)t * dominance_count + i]);
        }

        /* 2. Add the scores in trial order, so the sums do not depend on the thread count. */
        for (int t = 0; t < chunk; t++)
            for (int i = 0; i < dominance_count; i++) {
                cosine_sum[i] += cosines[(size_t)t * dominance_count + i];
                hit_count[i] += hits[(size_t)t * dominance_count + i];
            }
    }

    for (int i = 0; ok && i < dominance_count; i++) {
        double D = dominances[i];
        points[i] = (BlurPoint){
            .count = count,
            .dominance = D,
            .mean_cosine = cosine_sum[i] / config->trials,
            .expected_cosine = D / sqrt(D * D + (count - 1)),
            .retrieval = (double)hit_count[i] / config->trials,
        };
    }
    free(scratch);
    free(dot_space);
    free(cosines);
    free(hits);
    free(cosine_sum);
    free(hit_count);
    return ok;
}
