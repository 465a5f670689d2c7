"""Bad task-generator arguments: each is one project error of the expected class naming the
argument, raised before any table, pool or batch is built (under an address-space cap of the
current size + 512 MB). Before, several gave a silently wrong result."""

from __future__ import annotations

import math

import pytest
import torch
from bounded import bounded_memory

from interp.errors import ConfigError, InputError
from interp.tasks import make_task
from interp.tasks.addition import digits_of
from interp.tasks.markov import MarkovChain
from interp.tasks.ngrams import in_context_ngram_probs
from interp.tasks.regression import RegressionTask
from interp.tasks.tokenization import BPETokenizer, CharTokenizer, LZWTokenizer

# name, call, error class, fragment naming the argument
CASES = [
    # Silent wrong answers before.
    ("bpe_unseen_characters", lambda: BPETokenizer("abab" * 50, 6).encode("abxyzab"), InputError, "'x'"),
    ("sparsity_float", lambda: RegressionTask(function_class="sparse_linear", sparsity=2.5), ConfigError,
     "sparsity"),
    ("digits_of_float", lambda: digits_of([1.5], 3), InputError, "operand"),
    ("digits_of_bool", lambda: digits_of([True], 3), InputError, "operand"),
    # Tracebacks before.
    ("bpe_empty_text", lambda: BPETokenizer("", 4), InputError, "empty"),
    ("lzw_empty_text", lambda: LZWTokenizer("", 4), InputError, "empty"),
    ("char_empty_alphabet", lambda: CharTokenizer(""), InputError, "empty"),
    ("bpe_bytes_text", lambda: BPETokenizer(b"abab", 4), InputError, "str"),
    ("bpe_vocab_float", lambda: BPETokenizer("abab", 4.5), InputError, "vocab_size"),
    ("relu_net_hidden_zero", lambda: RegressionTask(function_class="relu_net", hidden=0), ConfigError,
     "hidden"),
    ("w_scale_zero", lambda: RegressionTask(w_scale=0), ConfigError, "w_scale"),
    ("noise_std_nan", lambda: RegressionTask(noise_std=math.nan), ConfigError, "noise_std"),
    ("x_scale_inf", lambda: RegressionTask(x_scale=math.inf), ConfigError, "x_scale"),
    ("d_float", lambda: RegressionTask(d=2.0), ConfigError, "d must be an integer"),
    # Unbounded allocations before.
    ("markov_order_40", lambda: MarkovChain.switching(0.5, 0.5, order=40), InputError, "task_table_entries"),
    ("markov_order_1e9", lambda: MarkovChain.switching(0.5, 0.5, order=10**9), InputError,
     "task_table_entries"),
    ("markov_dirichlet_huge", lambda: MarkovChain.dirichlet(1000, 3, 1.0, 0), InputError,
     "task_table_entries"),
    ("markov_seq_len_huge", lambda: make_task("markov", seq_len=10**7), InputError, "seq_len"),
    ("markov_kernel_nan", lambda: MarkovChain([[math.nan, 1.0], [0.5, 0.5]]), InputError, "finite"),
    ("markov_kernel_ragged", lambda: MarkovChain([[1.0], [0.5, 0.5]]), InputError, "kernel"),
    ("markov_p_nan", lambda: MarkovChain.switching(math.nan, 0.5), InputError, "p must be finite"),
    ("markov_q_above_one", lambda: MarkovChain.switching(0.5, 1.5), InputError, "q must be <= 1"),
    ("ngrams_50_symbols_n_6", lambda: make_task("ngrams", symbols=50, n=6), InputError, "task_table_entries"),
    ("ngrams_alpha_nan", lambda: make_task("ngrams", alpha=math.nan), InputError, "alpha"),
    ("ngrams_seq_len_huge", lambda: make_task("ngrams", seq_len=10**8), InputError, "seq_len"),
    ("regression_pool_1e12", lambda: RegressionTask(pool_size=10**12), ConfigError, "pool_size"),
    ("regression_points_1e9", lambda: RegressionTask(n_points=10**9), ConfigError, "n_points"),
    ("regression_d_1e9", lambda: RegressionTask(d=10**9), ConfigError, "d="),
    ("regression_hidden_huge", lambda: RegressionTask(function_class="relu_net", d=100, hidden=10**9),
     ConfigError, "hidden"),
    ("reverse_vocab_1e9", lambda: make_task("reverse", d_vocab=10**9), InputError, "d_vocab"),
    ("addition_digits_100", lambda: make_task("addition", n_digits=100), InputError, "n_digits"),
    ("addition_enrich_nan", lambda: make_task("addition", enrich=math.nan), InputError, "enrich"),
    ("ngram_probs_float_tokens", lambda: in_context_ngram_probs(torch.zeros(2, 5), 3), InputError, "integer"),
    ("ngram_probs_out_of_range", lambda: in_context_ngram_probs(torch.full((2, 5), 7), 3), InputError,
     "0..2"),
    ("ngram_probs_huge_table", lambda: in_context_ngram_probs(torch.zeros(64, 64, dtype=torch.long), 50, n=4),
     InputError, "batch_elements"),
    ("task_unknown_option", lambda: make_task("markov", colour=1), InputError, "colour"),
]  # fmt: skip


@pytest.mark.parametrize("name,call,error,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_task_arguments_are_one_error_naming_the_argument(name, call, error, fragment):
    with bounded_memory(), pytest.raises(error) as info:
        call()
    assert type(info.value) is error, repr(info.value)
    assert fragment in str(info.value), str(info.value)


def test_an_irreducible_chain_is_not_called_reducible():
    with pytest.raises(InputError) as info:
        MarkovChain.switching(1e-300, 1e-300).stationary()
    assert "irreducible" in str(info.value) and "is reducible" not in str(info.value)
    with pytest.raises(InputError, match="reducible: it has 2 closed classes"):
        MarkovChain([[1.0, 0.0], [0.0, 1.0]]).stationary()


def test_bpe_encodes_every_seen_character_exactly():
    tokenizer = BPETokenizer("abcab" * 40, 8)
    assert tokenizer.decode(tokenizer.encode("cabbac")) == "cabbac"


def test_interp_eval_of_a_model_whose_metadata_asks_for_a_huge_task_is_refused():
    from interp.evaluation import evaluate
    from interp.model import HookedTransformer, ModelConfig

    cfg = ModelConfig(n_layers=1, d_model=8, n_ctx=64, d_vocab=2, n_heads=1, d_mlp=8, causal=True)
    metadata = {"producer": "train", "recipe": "markov-switching", "task": "markov",
                "task_options": {"kind": "switching", "p": 0.5, "q": 0.8, "seq_len": 10**9}}
    with bounded_memory(), pytest.raises(InputError, match="seq_len"):
        evaluate(HookedTransformer(cfg, metadata=metadata))
