"""TransformerLens 4.3's next tools on every model kind: a random LayerNorm model, compiled
`reverse`, shipped `addition-1l` and shipped `icl-gpt` (vector inputs). Each tool either
matches a hand computation (plain tensor algebra, our own loops) or refuses in one line with
a project error. Issue 28's table, row by row."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from transformer_lens import SVDInterpreter, evals, utilities
from transformer_lens.FactoredMatrix import FactoredMatrix
from transformer_lens.head_detector import detect_head

from interp.errors import ConfigError, InputError, InterpError
from interp.model import HookedTransformer, ModelConfig, VocabTokenizer, load_model
from interp.shipped import shipped_path

ATOL = 1e-5
torch.set_num_threads(1)  # tiny models: one thread beats several competing for the cores


@dataclass
class Subject:
    name: str
    model: HookedTransformer
    text: str | None  # a prompt the model reads (None: vector inputs)
    ids: list[int] | None  # its ids, worked out by hand from the vocabulary
    inputs: torch.Tensor  # a batch the model reads: ids [batch, pos] or vectors


def _ln_model() -> HookedTransformer:
    cfg = ModelConfig(n_layers=2, d_model=12, n_ctx=8, d_vocab=6, n_heads=2, d_mlp=10,
                      normalization_type="LN", causal=True, vocab=list("abcdef"), seed=0)
    model = HookedTransformer(cfg).init_weights(std=0.4)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(".w"):  # LN weights far from 1, biases non-zero: bookkeeping shows
                param.copy_(1.5 + torch.randn(param.shape, generator=generator) * 0.5)
            elif name.split(".")[-1].startswith("b"):
                param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    return model


def _subject(name: str) -> Subject:
    if name == "ln":
        model = _ln_model()
        ids = [["abcdef".index(c) for c in "cabfed"], [3, 3, 1, 0, 5, 2]]
        return Subject(name, model, "cab fed", ids[0], torch.tensor(ids))
    if name == "reverse":
        from rasp.compiler import compile_program
        from rasp.lib import PROGRAMS

        entry = PROGRAMS["reverse"]
        compiled = compile_program(entry.build(), entry.vocab, 4)
        ids = compiled.encode(list("dcb"))  # BOS first: the compiled model expects it
        rows = torch.tensor([ids, compiled.encode(list("abd"))])
        return Subject(name, compiled.model, "dcb", ids, rows)
    if name == "addition-1l":
        model = load_model(shipped_path(name))
        vocab = [str(d) for d in range(10)] + ["+", "="]
        text = "31415+92653="
        ids = [vocab.index(c) for c in text]
        return Subject(name, model, text, ids, torch.tensor([ids, ids[::-1]]))
    model = load_model(shipped_path("icl-gpt"))
    vectors = torch.randn(2, 7, 5, generator=torch.Generator().manual_seed(0))
    return Subject(name, model, None, None, vectors)


SUBJECTS = ["ln", "reverse", "addition-1l", "icl-gpt"]
NEXT_TOKEN = {"ln", "addition-1l"}  # causal, outputs = input tokens


@pytest.fixture(scope="module", params=SUBJECTS)
def subject(request) -> Subject:
    return _subject(request.param)


def _one_line(err: pytest.ExceptionInfo) -> None:
    """A refusal is a project error with a one-line message."""
    assert isinstance(err.value, InterpError)
    assert "\n" not in str(err.value) and str(err.value)


# ---------------------------------------------------------------- config fields
def test_config_fields_tl_reads(subject):
    model, cfg = subject.model, subject.model.cfg
    assert cfg.dtype == model.embed.W_E.dtype == torch.float32
    assert cfg.device == str(model.embed.W_E.device) == "cpu"
    assert cfg.default_prepend_bos is (subject.name == "reverse")  # only it has a BOS
    assert cfg.tokenizer_prepends_bos is False
    assert cfg.d_vocab_out == model.unembed.W_U.shape[1]
    assert cfg.positional_embedding_type == "standard"
    assert cfg.n_devices == 1


def test_dtype_and_device_follow_casts():
    model = _ln_model().double()
    assert model.cfg.dtype == torch.float64
    assert model.cfg.device == "cpu"
    # TL's LocallyOverridenDefaults sets default_prepend_bos on the config and restores it.
    model.cfg.default_prepend_bos = True
    assert model.cfg.default_prepend_bos is True
    model.cfg.default_prepend_bos = False


# ------------------------------------------------------------- tokens, strings
def test_to_tokens_to_str_tokens_to_string(subject):
    model = subject.model
    if subject.text is None:
        for call in (lambda: model.to_tokens("1 2"), lambda: model.to_str_tokens("1"),
                     lambda: model.to_string([1, 2])):
            with pytest.raises(InputError, match="reads vectors") as err:
                call()
            _one_line(err)
        assert model.tokenizer is None
        return
    tokens = model.to_tokens(subject.text)
    assert tokens.tolist() == [subject.ids]
    names = [model.cfg.vocab[i] for i in subject.ids]  # by hand
    assert model.to_str_tokens(subject.text) == names
    assert model.to_str_tokens(tokens[0]) == names == model.to_str_tokens(tokens)
    # to_string then to_tokens gives the ids back (BOS included in the string when present).
    assert model.to_tokens(model.to_string(tokens[0]), prepend_bos=False).tolist() == [subject.ids]
    assert model.to_string(tokens) == [model.to_string(tokens[0])]
    # A list of strings is a batch, as in TL.
    assert model.to_tokens([subject.text, subject.text]).tolist() == [subject.ids, subject.ids]
    if model.cfg.bos_token is None:
        with pytest.raises(InputError, match="no BOS token") as err:
            model.to_tokens(subject.text, prepend_bos=True)
        _one_line(err)
    else:
        assert model.to_tokens(subject.text, prepend_bos=False).tolist() == [subject.ids[1:]]
    last = model.cfg.vocab[subject.ids[-1]]
    assert model.get_token_position(last, subject.text, mode="last") == len(subject.ids) - 1
    assert model.to_single_str_token(subject.ids[-1]) == last
    with pytest.raises(InputError, match="different lengths") as err:
        model.to_tokens([subject.text, subject.text[:-1]])
    _one_line(err)
    with pytest.raises(InputError, match="cannot tokenize") as err:
        model.to_tokens("?")
    _one_line(err)


def test_tokenizer_speaks_the_hf_interface():
    # A Transformer Program's vocabulary: multi-character names, a sink as BOS, last.
    tokenizer = VocabTokenizer(["<s>", "0", "1", "</s>", "<sink>"], bos_token="<sink>")
    assert tokenizer.encode("<s>10</s>") == [0, 2, 1, 3]
    assert tokenizer.tokenize("<s> 1 0") == ["<s>", "1", "0"]
    assert tokenizer.decode([4, 0, 2]) == "<sink> <s> 1"
    assert tokenizer.decode([4, 0, 2], skip_special_tokens=True) == "<s> 1"
    assert tokenizer.batch_decode(torch.tensor([[1], [2]])) == ["0", "1"]
    assert tokenizer.convert_ids_to_tokens([3, 1]) == ["</s>", "0"]
    assert tokenizer.convert_tokens_to_ids("<sink>") == 4 == tokenizer.bos_token_id
    assert tokenizer.bos_token == "<sink>" and tokenizer.pad_token is None
    assert tokenizer.padding_side == "right" and len(tokenizer) == 5
    assert tokenizer(["01", "10"], return_tensors="pt")["input_ids"].tolist() == [[1, 2], [2, 1]]
    # Longest names first, backing off where the longest leaves an unsplittable rest.
    backing = VocabTokenizer(["ab", "abc", "cd", "d"])
    assert backing.tokenize("abcd") == ["abc", "d"] and backing.tokenize("ab cd") == ["ab", "cd"]
    assert VocabTokenizer(["ab", "abc", "cd"]).tokenize("abcd") == ["ab", "cd"]
    with pytest.raises(InputError, match="gets past 'x' \\(character 4\\)") as err:
        VocabTokenizer(["ab", "abc", "cd"]).tokenize("abcdx")
    _one_line(err)
    # Single-character vocabularies decode without separators.
    assert VocabTokenizer(list("0123+=")).decode([1, 4, 2, 5]) == "1+2="


# ------------------------------------------------------------------- forward
def test_loss_and_loss_per_token(subject):
    model, inputs = subject.model, subject.inputs
    if subject.name not in NEXT_TOKEN:
        for return_type in ("loss", "both"):
            with pytest.raises(InputError, match="needs a next-token model") as err:
                model(inputs, return_type=return_type)
            _one_line(err)
        return
    logits = model(inputs)
    by_hand = -F.log_softmax(logits[:, :-1], -1).gather(-1, inputs[:, 1:, None])[..., 0]  # [b, p-1]
    torch.testing.assert_close(model(inputs, return_type="loss", loss_per_token=True), by_hand)
    torch.testing.assert_close(model(inputs, return_type="loss"), by_hand.mean())
    both_logits, both_loss = model(inputs, return_type="both")
    torch.testing.assert_close(both_logits, logits)
    torch.testing.assert_close(both_loss, by_hand.mean())
    assert model(inputs, return_type=None) is None
    with pytest.raises(InputError, match="return_type") as err:
        model(inputs, return_type="probs")
    _one_line(err)


def test_start_and_stop_at_layer(subject):
    model, inputs = subject.model, subject.inputs
    n = model.cfg.n_layers
    logits, cache = model.run_with_cache(inputs)
    for layer in range(n):
        resid = cache[f"blocks.{layer}.hook_resid_pre"]
        torch.testing.assert_close(model(inputs, stop_at_layer=layer), resid, atol=ATOL, rtol=0)
        # The cached run takes the unfused path, a plain forward the fused one: float noise.
        torch.testing.assert_close(model(resid, start_at_layer=layer), logits, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(model(inputs, stop_at_layer=-1), cache[f"blocks.{n - 1}.hook_resid_pre"])
    if subject.name in NEXT_TOKEN:
        resid = cache[f"blocks.{n - 1}.hook_resid_pre"]
        torch.testing.assert_close(model(resid, start_at_layer=-1, tokens=inputs, return_type="loss"),
                                   model(inputs, return_type="loss"), atol=ATOL, rtol=0)
    with pytest.raises(InputError, match="stop_at_layer") as err:
        model(inputs, stop_at_layer=n + 1)
    _one_line(err)


# ------------------------------------------------------------ weights as TL has them
def test_weight_views_and_factored_circuits(subject):
    model, cfg = subject.model, subject.model.cfg
    expected = {"W_Q": (cfg.n_layers, cfg.n_heads, cfg.d_model, cfg.d_head),
                "W_O": (cfg.n_layers, cfg.n_heads, cfg.d_head, cfg.d_model),
                "b_O": (cfg.n_layers, cfg.d_model)}
    if not cfg.attn_only:
        expected |= {"W_in": (cfg.n_layers, cfg.d_model, cfg.d_mlp),
                     "W_out": (cfg.n_layers, cfg.d_mlp, cfg.d_model)}
    for name, shape in expected.items():
        assert tuple(getattr(model, name).shape) == shape, name
    assert isinstance(model.OV, FactoredMatrix) and isinstance(model.QK, FactoredMatrix)
    layer, head = cfg.n_layers - 1, cfg.n_heads - 1
    attn = model.blocks[layer].attn
    torch.testing.assert_close(model.OV[layer, head].AB, attn.W_V[head] @ attn.W_O[head])
    torch.testing.assert_close(model.QK[layer, head].AB, attn.W_Q[head] @ attn.W_K[head].T)


def _outputs(model: HookedTransformer, inputs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(inputs)


def test_center_writing_weights(subject):
    model = copy.deepcopy(subject.model)
    if model.cfg.normalization_type != "LN":
        with pytest.raises(ConfigError, match="LayerNorm") as err:
            model.center_writing_weights()
        _one_line(err)
        return
    before = _outputs(model, subject.inputs)
    model.center_writing_weights()
    torch.testing.assert_close(_outputs(model, subject.inputs), before, atol=1e-4, rtol=1e-4)
    for weight in (model.W_E, model.W_pos, model.W_O, model.b_O, model.W_out, model.b_out):
        assert weight.mean(-1).abs().max() < 1e-5  # every written vector has mean zero
    _, cache = model.run_with_cache(subject.inputs)
    assert cache["blocks.0.hook_resid_pre"].mean(-1).abs().max() < 1e-5


def test_center_unembed(subject):
    model = copy.deepcopy(subject.model)
    if subject.name in ("reverse", "icl-gpt"):
        with pytest.raises(ConfigError, match="compiled|single output") as err:
            model.center_unembed()
        _one_line(err)
        return
    before = _outputs(model, subject.inputs)
    model.center_unembed()
    after = _outputs(model, subject.inputs)
    torch.testing.assert_close(after.log_softmax(-1), before.log_softmax(-1), atol=1e-4, rtol=0)
    shift = (before - after)[..., :1]  # one constant per position
    torch.testing.assert_close(before - after, shift.expand_as(before), atol=1e-4, rtol=0)
    assert model.W_U.mean(-1).abs().max() < 1e-6 and model.b_U.mean().abs() < 1e-6


def test_refactor_factored_attn_matrices(subject):
    model = copy.deepcopy(subject.model)
    before = _outputs(model, subject.inputs)
    ov, qk = model.OV.AB.clone(), model.QK.AB.clone()
    model.refactor_factored_attn_matrices()
    torch.testing.assert_close(_outputs(model, subject.inputs), before, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(model.OV.AB, ov, atol=1e-4, rtol=1e-4)
    assert model.b_V.abs().max() == 0  # folded into b_O
    torch.testing.assert_close(model.QK.AB, qk, atol=1e-4, rtol=1e-4)
    # W_O is a rotation: orthonormal rows (TL's choice of factorisation).
    W_O = model.W_O[0, 0]  # [d_head, d_model]
    gram = W_O @ W_O.T
    nonzero = gram.diagonal() > 0.5
    torch.testing.assert_close(gram[nonzero][:, nonzero], torch.eye(int(nonzero.sum())), atol=1e-4, rtol=0)


# ------------------------------------------------------------------ generate
def test_generate(subject):
    model = subject.model
    if subject.name not in NEXT_TOKEN:
        prompt = subject.text if subject.text is not None else subject.inputs
        with pytest.raises(InputError, match="needs a next-token model") as err:
            model.generate(prompt, max_new_tokens=1)
        _one_line(err)
        return
    prompt = torch.tensor([subject.ids[:4]])
    greedy = prompt
    for _ in range(3):  # by hand: append the argmax of the last position
        greedy = torch.cat([greedy, model(greedy)[:, -1].argmax(-1, keepdim=True)], 1)
    assert model.generate(prompt, max_new_tokens=3, do_sample=False).tolist() == greedy.tolist()
    text = model.to_string(prompt[0])
    assert model.generate(text, max_new_tokens=3, do_sample=False) == model.to_string(greedy[0])
    torch.manual_seed(7)
    sampled = model.generate(prompt, max_new_tokens=3, temperature=0.7)
    torch.manual_seed(7)
    by_hand = prompt
    for _ in range(3):
        logits = model(by_hand)[:, -1] / 0.7
        pick = torch.distributions.Categorical(logits=logits).sample()
        by_hand = torch.cat([by_hand, pick[:, None]], 1)
    assert sampled.tolist() == by_hand.tolist()
    # stop_at_eos with an explicit EOS: the row stops there, later tokens are the EOS id.
    eos = int(greedy[0, 5])
    stopped = model.generate(prompt, max_new_tokens=3, do_sample=False, eos_token_id=eos)
    first = [i for i in range(4, 7) if int(greedy[0, i]) == eos][0]
    assert stopped[0, : first + 1].tolist() == greedy[0, : first + 1].tolist()
    assert set(stopped[0, first:].tolist()) == {eos}
    with pytest.raises(InputError, match="n_ctx") as err:
        model.generate(prompt, max_new_tokens=model.cfg.n_ctx)
    _one_line(err)


# ------------------------------------------------------------ SVDInterpreter
def _leading_k(values: torch.Tensor) -> int:
    """Largest k <= 3 whose top-k singular subspace is unique (a gap after it)."""
    k = 0
    for j in range(min(3, len(values) - 1)):
        if values[j] > 1e-4 and values[j] - values[j + 1] > 1e-3 * values[0]:
            k = j + 1
    return k


@pytest.mark.parametrize("vector_type", ["OV", "w_in", "w_out"])
def test_svd_interpreter(subject, vector_type):
    model = subject.model
    W_U = model.unembed.W_U.detach()  # [d_model, d_vocab_out], as TL reads it
    candidates = []
    for layer in range(model.cfg.n_layers):
        heads = range(model.cfg.n_heads) if vector_type == "OV" else [None]
        for head in heads:
            if vector_type == "OV":
                matrix = model.W_V[layer, head] @ model.W_O[layer, head]
            elif vector_type == "w_in":
                ln2 = getattr(model.blocks[layer].ln2, "w", torch.ones(model.cfg.d_model))
                matrix = model.W_in[layer].T * ln2  # TL includes an unfolded ln2 weight
            else:
                matrix = model.W_out[layer]
            _, values, Vh = torch.linalg.svd(matrix.detach().double())
            if _leading_k(values):
                candidates.append((layer, head, _leading_k(values), Vh))
    layer, head, k, Vh = candidates[-1]
    vectors = SVDInterpreter(model).get_singular_vectors(vector_type, layer, num_vectors=k,
                                                         head_index=head)
    assert vectors.shape == (model.cfg.d_vocab_out, 1, k)  # one row per output, not per input token
    # Singular vectors are unique up to a rotation within the top-k subspace: compare the Gram
    # matrix W_U^T P W_U, P the projector onto that subspace from our own SVD.
    ours = vectors[:, 0].double()  # [d_vocab_out, k]
    projector = Vh[:k].T @ Vh[:k]  # [d_model, d_model]
    torch.testing.assert_close(ours @ ours.T, W_U.double().T @ projector @ W_U.double(),
                               atol=1e-4, rtol=1e-4)
    with pytest.raises(InputError, match="num_vectors") as err:
        SVDInterpreter(model).get_singular_vectors(vector_type, layer, num_vectors=10**4,
                                                   head_index=head)
    _one_line(err)


def test_svd_interpreter_refuses_mlp_vectors_without_an_mlp():
    cfg = ModelConfig(n_layers=1, d_model=8, n_ctx=4, d_vocab=5, n_heads=2, seed=0)
    model = HookedTransformer(cfg).init_weights(std=0.5)
    with pytest.raises(InputError, match="attention-only") as err:
        SVDInterpreter(model).get_singular_vectors("w_in", 0, num_vectors=2)
    _one_line(err)


# ----------------------------------------------------------------- detect_head
@pytest.mark.parametrize("kind", ["previous_token_head", "duplicate_token_head"])
def test_detect_head(subject, kind):
    model = subject.model
    if subject.text is None:
        with pytest.raises(InputError, match="reads vectors") as err:
            detect_head(model, "1 2 3", kind)
        _one_line(err)
        return
    text = {"ln": "abcab", "reverse": "aba", "addition-1l": "1212+34="}[subject.name]
    scores = detect_head(model, text, kind)
    tokens = model.to_tokens(text)[0]
    n = len(tokens)
    if kind == "previous_token_head":
        pattern_wanted = torch.zeros(n, n)
        pattern_wanted[torch.arange(1, n), torch.arange(n - 1)] = 1
    else:
        pattern_wanted = (tokens[:, None] == tokens[None, :]).float().tril(-1)
    _, cache = model.run_with_cache(tokens[None])
    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            pattern = cache[f"blocks.{layer}.attn.hook_pattern"][0, head]  # [q, k]
            by_hand = (pattern * pattern_wanted).sum() / pattern.sum()
            assert abs(scores[layer, head].item() - by_hand.item()) < 1e-5
    if model.cfg.causal:
        abs_scores = detect_head(model, text, kind, error_measure="abs")
        pattern = cache["blocks.0.attn.hook_pattern"][0, 0]
        by_hand = 1 - round(((pattern - pattern_wanted).abs().mean() * n).item(), 3)
        assert abs(abs_scores[0, 0].item() - by_hand) < 1e-6
    else:  # TL's "abs" assumes a causal pattern; it asserted without a message
        with pytest.raises(InputError, match="use 'mul'") as err:
            detect_head(model, text, kind, error_measure="abs")
        _one_line(err)


# ------------------------------------------------------------- induction_loss
def test_induction_loss_on_a_model_with_tls_token_range():
    """TL draws tokens 100..19999: a model with that vocabulary gets the loss, checked by hand."""
    cfg = ModelConfig(n_layers=1, d_model=8, n_ctx=12, d_vocab=20000, n_heads=2, causal=True, seed=0)
    model = HookedTransformer(cfg).init_weights(std=0.5)
    torch.manual_seed(3)
    loss = evals.induction_loss(model, batch_size=2, subseq_len=5, device="cpu")
    torch.manual_seed(3)
    half = torch.randint(100, 20000, (2, 5))
    tokens = torch.cat([half, half], 1)  # [2, 10]
    log_probs = model(tokens).log_softmax(-1)
    by_hand = -log_probs[:, :-1].gather(-1, tokens[:, 1:, None])[..., 0]  # [2, 9]
    torch.testing.assert_close(loss, by_hand[:, 6:].mean())


def test_induction_loss_refuses_models_outside_tls_token_range(subject):
    with pytest.raises(InputError, match="outside the vocabulary|reads vectors") as err:
        evals.induction_loss(subject.model, batch_size=1, subseq_len=2, device="cpu")
    _one_line(err)


def test_sanity_check_refuses_english_text(subject):
    """evals.sanity_check scores an English paragraph: no model here has those tokens."""
    with pytest.raises(InputError, match="cannot tokenize|needs a next-token model") as err:
        evals.sanity_check(subject.model)
    _one_line(err)


# ---------------------------------------------------------------- test_prompt
def test_test_prompt(subject, capsys):
    model = subject.model
    if subject.name not in NEXT_TOKEN:
        prompt = subject.text or "1"
        with pytest.raises(InputError, match="needs a next-token model") as err:
            utilities.test_prompt(prompt, "a", model)
        _one_line(err)
        return
    prompt, answer = model.to_string(subject.ids[:-1]), model.cfg.vocab[subject.ids[-1]]
    utilities.test_prompt(prompt, answer, model, top_k=2)
    printed = capsys.readouterr().out
    # By hand: the answer's rank and probability at the prompt's last position.
    probs = model(torch.tensor([subject.ids])).softmax(-1)[0, -2]  # [d_vocab]
    rank = int((probs > probs[subject.ids[-1]]).sum())
    assert f"Rank: {rank: <8}" in printed
    assert f"Prob: {probs[subject.ids[-1]].item():6.2%}" in printed
    assert f"Tokenized answer: ['{answer}']" in printed


# ------------------------------------------------------------------ checkpoints
def test_bos_token_survives_saving_and_old_checkpoints_get_it(tmp_path):
    import json

    model = _subject("reverse").model
    model.save(str(tmp_path / "new"))
    loaded = load_model(tmp_path / "new")
    assert loaded.cfg.bos_token == "BOS" and loaded.to_tokens("ab").tolist() == [[0, 1, 2]]
    # A compiled checkpoint saved before cfg.bos_token existed: the compiler metadata names it.
    model.save(str(tmp_path / "old"))
    config_path = tmp_path / "old" / "config.json"
    header = json.loads(config_path.read_text())
    del header["config"]["bos_token"]
    config_path.write_text(json.dumps(header))
    assert load_model(tmp_path / "old").cfg.default_prepend_bos is True


# ------------------------------------------- the other vocabularies: Transformer Program, Markov
def test_transformer_program_strings_prepend_its_sink():
    from interp.programs.convert import hooked_predict
    from interp.programs.shipped import load_shipped_model

    model = load_shipped_model("hist")
    assert model.cfg.bos_token == "<sink>" and model.cfg.default_prepend_bos
    tokens = model.to_tokens("<s> 1 2 2 0")
    body = [model.cfg.vocab.index(n) for n in ["<s>", "1", "2", "2", "0"]]  # by hand
    assert tokens.tolist() == [[model.cfg.vocab.index("<sink>"), *body]]
    predicted = hooked_predict(model, torch.tensor([body]), torch.tensor([len(body)]))
    assert model(tokens).argmax(-1)[:, 1:].tolist() == predicted.tolist()
    assert model.to_string(tokens[0]) == "<sink> <s> 1 2 2 0"
    with pytest.raises(InputError, match="Transformer Program") as err:
        model(tokens, return_type="loss")
    _one_line(err)
    scores = detect_head(model, "<s> 1 2 2 0", "duplicate_token_head")
    assert scores.shape == (model.cfg.n_layers, model.cfg.n_heads)


def test_markov_model_generates_and_scores_strings():
    model = load_model(shipped_path("markov-switching"))
    tokens = model.to_tokens("0110100")
    assert tokens.tolist() == [[0, 1, 1, 0, 1, 0, 0]]
    greedy = tokens
    for _ in range(4):
        greedy = torch.cat([greedy, model(greedy)[:, -1].argmax(-1, keepdim=True)], 1)
    assert model.generate("0110100", max_new_tokens=4, do_sample=False) == model.to_string(greedy[0])
    logits = model(tokens)
    by_hand = F.cross_entropy(logits[0, :-1], tokens[0, 1:])
    torch.testing.assert_close(model("0110100", return_type="loss"), by_hand)


def test_weight_processing_equals_transformerlens_process_weights():
    """Our in-place rewrites give the state dict TL's ProcessWeights gives for the same weights."""
    from transformer_lens.weight_processing import ProcessWeights

    for ours, theirs in (("center_writing_weights", ProcessWeights.center_writing_weights),
                         ("center_unembed", ProcessWeights.center_unembed)):
        model = _ln_model()
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        expected = theirs(state, model.cfg)
        getattr(model, ours)()
        for name, value in model.state_dict().items():
            torch.testing.assert_close(value, expected[name], atol=1e-6, rtol=0, msg=f"{ours}: {name}")


def test_generate_and_loss_equal_transformerlens_bridge():
    """TL's own TransformerBridge on the same weights: same greedy and seeded sampled tokens,
    same per-token loss."""
    from interp.model.tl_bridge import to_transformer_bridge

    model = _ln_model()
    bridge = to_transformer_bridge(model)
    prompt = torch.tensor([[2, 0, 1, 5], [4, 4, 3, 0]])
    options = dict(max_new_tokens=3, stop_at_eos=False, verbose=False, return_type="tokens")
    assert (model.generate(prompt, max_new_tokens=3, do_sample=False).tolist()
            == bridge.generate(prompt, do_sample=False, **options).tolist())
    torch.manual_seed(1)
    ours = model.generate(prompt, max_new_tokens=3, temperature=0.8, top_k=3)
    torch.manual_seed(1)
    assert ours.tolist() == bridge.generate(prompt, temperature=0.8, top_k=3, **options).tolist()
    torch.testing.assert_close(model(prompt, return_type="loss", loss_per_token=True),
                               bridge(prompt, return_type="loss", loss_per_token=True),
                               atol=1e-5, rtol=0)
