/*
 * The attention stages 05 to 08 as models of the comparison: word vectors
 * plus learned position vectors, attention layers, the mean over positions
 * and a linear layer (a classifier), or stage 08's causal next-word model.
 *
 * Position vectors are drawn with a larger standard deviation than PyTorch's
 * default for linear layers: attention can only find "the word d places
 * later" through them, and with weak position signal at the start these
 * models can stay at chance for thousands of steps.
 */
#ifndef COMPARE_ATTENTION_H
#define COMPARE_ATTENTION_H

#include "models.h"

/** Standard deviation of the learned position vectors of stages 05, 06 and 07. */
#define ATTENTION_POSITION_STD 1.0f

/**
 * Builds model->spec (an attention kind) into @p model: impl, forward,
 * params and free_impl.
 * @return false when a size is invalid for the kind or memory runs out;
 *         whatever was built is then left in @p model for model_free.
 */
bool attention_build(Model *model, Rng *rng);

/** Estimates the multiply-adds of the attention layers on one sentence of @p length words. */
double attention_cost_per_sentence(const ModelSpec *spec, int length);

#endif /* COMPARE_ATTENTION_H */
