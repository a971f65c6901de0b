/**
 * @file transformer.h
 * @brief Stage 08, beyond the derivation: the standard transformer block.
 *
 * Stage 07's multi-head attention and stage 06's per-vector MLP, with the
 * additions that standard transformers use and that the derivation does not
 * need: scores scaled by 1/sqrt(head width), residual connections, layer
 * normalisation, and an optional causal mask for next-word prediction.
 *
 * The model, for a sentence of n word ids w_0 .. w_{n-1}:
 *
 *     x_t = E[w_t] + P[t]                                    [n, D]
 *     for each of the L blocks (pre-norm):
 *         x = x + MultiHead(LayerNorm_1(x))                   [n, D]
 *         x = x + Mlp(LayerNorm_2(x))                         [n, D]
 *     features = LayerNorm_f(x)                               [n, D]
 *     classifier: mean over t of features, then a linear map  [C]
 *     next word:  a linear map of every feature vector        [n, V]
 *
 * MultiHead is stage 07's: H heads of width Dh = D / H, head h computing
 * y_q = A x_q + sum_k a_qk B x_k, concatenated and multiplied by W_O
 * [D, D]. Stage 08 changes only how the weights a_qk are computed: every
 * head's score_scale (stage 06) is set to 1/sqrt(Dh), so the scores
 * (W_Q x_q) . (W_K x_k) are divided by sqrt(Dh), and with config.causal
 * every key k > q gets weight exactly 0. Mlp is stage 06's, with GELU.
 * Layer norms use epsilon TRANSFORMER_NORM_EPS.
 *
 * Parameter names (transformer_params), in list order:
 *   "word_embedding" [V, D] and "position_embedding" [P, D];
 *   per block l = 1 .. L: "blockl.norm1.gain" and "blockl.norm1.bias" [D],
 *   the attention tensors under "blockl.attention" (multi_head_new),
 *   "blockl.norm2.gain" and "blockl.norm2.bias" [D], the MLP under
 *   "blockl.mlp" (mlp_new);
 *   "final_norm.gain" and "final_norm.bias" [D];
 *   "classifier.weight" [C, D] and "classifier.bias" [C];
 *   "next_word.weight" [V, D] and "next_word.bias" [V].
 * Both output heads always exist. Each task leaves the other head's gradient
 * at 0, and Adam does not move a parameter whose gradient stays 0.
 */
#ifndef TRANSFORMER_H
#define TRANSFORMER_H

#include <stdbool.h>
#include <stddef.h>

#include "07_multi_head/multi_head.h"
#include "ops.h"
#include "optim.h"
#include "rng.h"

/** Epsilon of every layer norm, PyTorch's default for nn.LayerNorm. */
#define TRANSFORMER_NORM_EPS 1e-5f

/**
 * Standard deviation of the word and position embeddings at initialisation.
 * Position vectors that start this large let attention tell positions apart
 * from the first step. With much smaller position vectors, attention on
 * relation tasks such as the distance task can stay at chance for thousands
 * of steps.
 */
#define TRANSFORMER_EMBEDDING_STD 1.0f

/** Sizes of a transformer model. */
typedef struct TransformerConfig {
    int vocab_size;   /**< V, rows of the word embedding */
    int positions;    /**< P, rows of the learned position embedding: the longest sentence */
    int width;        /**< D, the model width */
    int heads;        /**< H, attention heads; D must be a multiple of H */
    int mlp_width;    /**< hidden width of each block's MLP */
    int layers;       /**< L, transformer blocks */
    int classes;      /**< C, outputs of the classifier head (unused by the language model) */
    bool causal;      /**< mask every query from the keys after it */
} TransformerConfig;

/** A stack of transformer blocks with embeddings and output heads. */
typedef struct Transformer Transformer;

/**
 * Switches for residual sums and layer norms, so that a program can show
 * what they do. transformer_features uses both. The score scaling lives in
 * each head (LinearAttention.score_scale) and the mask in config.causal.
 */
typedef struct TransformerAdditions {
    bool residual;      /**< x + sublayer(x) instead of sublayer(x) */
    bool layer_norm;    /**< normalise before each sublayer and after the last block */
} TransformerAdditions;

/** The output heads, for counting what one task uses. */
typedef enum TransformerHead {
    TRANSFORMER_CLASSIFIER,  /**< mean over positions, then a linear map to C classes */
    TRANSFORMER_NEXT_WORD    /**< a linear map of every position to V words */
} TransformerHead;

/**
 * Allocates a model with weights drawn from @p rng, in this order: word and
 * position embeddings (normal, standard deviation TRANSFORMER_EMBEDDING_STD),
 * then per block the attention (multi_head_new with Dk = Dv = D / H and the
 * output projection W_O, each head's score_scale set to 1/sqrt(Dh)) and the
 * MLP (mlp_new, GELU), then the classifier
 * and next-word heads (init_linear_default, biases uniform within
 * 1/sqrt(D)). Layer norm gains start at 1 and biases at 0.
 * @return a model the caller frees with transformer_free, or NULL when a
 *         size is invalid or a struct or list cannot be allocated. Invalid
 *         sizes: any size below 1, a width that is not a multiple of the
 *         heads, a weight matrix with more than INT_MAX elements. A tensor
 *         that cannot be allocated stops the program (tensor_new).
 */
Transformer *transformer_new(TransformerConfig config, Rng *rng);

/** Frees a model; NULL is ignored. */
void transformer_free(Transformer *model);

/** Returns the model's trainable tensors, owned by the model. */
ParamList *transformer_params(Transformer *model);

/** Returns the sizes the model was built with. */
TransformerConfig transformer_config(const Transformer *model);

/** Returns residual sums and layer norms switched on, as transformer_features runs the model. */
TransformerAdditions transformer_standard_additions(void);

/**
 * Runs the embeddings and every block.
 * Shapes: ids [batch * length] (length <= positions), out [batch, length, D].
 */
Tensor *transformer_features(Tape *tape, const Transformer *model, const int *ids, int batch,
                             int length);

/**
 * Runs the model as transformer_features does, with chosen additions, and
 * hands out intermediate tensors (owned by the tape).
 * Shapes: ids [batch * length], out [batch, length, D]. When
 * @p block_outputs is not NULL, block_outputs[l] receives x after block l
 * [batch, length, D] (before the final layer norm), so it must have room
 * for L pointers. When @p weights_out is not NULL, weights_out[l * H + h]
 * receives the attention weights [batch, length, length] of head h in
 * block l; it must have room for L * H pointers.
 * A length above P or an id outside 0 .. V-1 stops the program (core_fatal).
 */
Tensor *transformer_features_with(Tape *tape, const Transformer *model, const int *ids, int batch,
                                  int length, TransformerAdditions additions,
                                  Tensor **block_outputs, Tensor **weights_out);

/**
 * Runs block @p layer (0 .. L-1) on x:
 * x + MultiHead(LayerNorm_1(x)), then that plus Mlp(LayerNorm_2(that)), with
 * the residual sums and layer norms left out where @p additions switches
 * them off.
 * When @p weights_out is not NULL, weights_out[h] receives head h's weights
 * [B, n, n]; it must have room for H pointers.
 * Shapes: x [B, n, D], out [B, n, D].
 */
Tensor *transformer_block_forward(Tape *tape, const Transformer *model, int layer, Tensor *x,
                                  TransformerAdditions additions, Tensor **weights_out);

/**
 * Runs stage 07's multi-head attention, with keys after the query masked
 * out (weight exactly 0) when @p causal. Without the mask this is
 * multi_head_forward. Each head scales its scores by its score_scale and
 * computes y_q = A x_q + sum_k a_qk B x_k with its own maps; the heads'
 * outputs are concatenated, head 0 first, and multiplied by W_O when the
 * layer has it. When @p weights_out is not NULL, weights_out[h] receives
 * head h's weights [B, n, n], so it must have room for H pointers.
 * Shapes: x [B, n, D], out [B, n, D] with W_O, else [B, n, H*Dv].
 */
Tensor *transformer_attention_forward(Tape *tape, const MultiHeadAttention *attention, Tensor *x,
                                      bool causal, Tensor **weights_out);

/**
 * Classifies sentences: features, mean over positions, linear layer.
 * The ClassifierForwardFn of train.h. Shapes: ids [batch * length], out [batch, C].
 */
Tensor *transformer_classify(Tape *tape, void *model, const int *ids, int batch, int length);

/**
 * Predicts the next word at every position: features, then a linear layer
 * to the vocabulary. Needs config.causal, so that position t never reads
 * the word it predicts. A model without it stops the program (core_fatal).
 * Shapes: ids [batch * length], out [batch * length, V].
 */
Tensor *transformer_next_word_logits(Tape *tape, void *model, const int *ids, int batch,
                                     int length);

/**
 * Counts the multiply-adds of one forward pass over one sentence of
 * @p length words with the output head @p head. Per block and head: the
 * projections n*D*4*Dh, the scores n^2*Dh and the weighted sums n^2*Dh
 * (linear_attention_cost). Per block: W_O n*D^2 and the MLP 2*n*D*M
 * (mlp_cost). In total L * (5 n D^2 + 2 n D M + 2 n^2 D), plus C*D for the
 * classifier or n*V*D for the next-word head. Lookups, additions, layer
 * norms, the score scaling, softmax and GELU are element-wise and not
 * counted.
 * @return false, leaving *count unchanged, when a size is below 1, D is
 *         not a multiple of H, or the count overflows size_t.
 */
bool transformer_multiply_adds(TransformerConfig config, int length, TransformerHead head,
                               size_t *count);

/**
 * Counts the parameters one task trains. Embeddings: V*D + P*D. Per block:
 * 4*D (two layer norms), 4*D^2 (the heads' W_Q, W_K, A, B), D^2 (W_O) and
 * 2*D*M + M + D (the MLP). Then 2*D (final layer norm) and the head, C*D + C
 * or V*D + V. The other head exists in the model but is not counted.
 * @return false, leaving *count unchanged, when a size is below 1, D is
 *         not a multiple of H, or the count overflows size_t.
 */
bool transformer_parameter_count(TransformerConfig config, TransformerHead head, size_t *count);

#endif /* TRANSFORMER_H */
