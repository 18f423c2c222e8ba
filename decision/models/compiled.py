"""NUTS compiled once per model structure: data and priors are arguments, not constants.

``pymc.sample(nuts_sampler="numpyro")`` turns every ``pm.Data`` value (evidence, monitoring
observations, prior hyper-parameters) into a constant of the XLA program it compiles, so every
new ``as_of``, ledger, scenario or backtest origin compiles the sampler again (20-45 s a model
on a 2-core machine) before sampling for a few seconds. Here the model is built padded to its
capacities (``build(padded=True)``: the same shapes whatever the data) and numpyro's NUTS runs
on its JAX log density with the shared data passed as *arguments* of one pmapped program:

* in process, one program per (model class, structure, draws, tune, chains, target_accept) is
  kept (:func:`sample`), so a refit on other data or priors compiles nothing;
* across processes, JAX's persistent compilation cache (configured by
  :mod:`decision.core.backend`) serves the program, whose key no longer holds the data; a
  lock file per program (``compile/locks/``) makes processes that need the same program at
  the same time compile it once (two cold processes fitting both models: 79 -> 53 CPU-s).

The *structure* is the padded model's log-density and output graph with the data as named
inputs (its printed form, hashed): models that differ only in data values share it.

:func:`sample` returns the ``InferenceData`` ``pymc.sample`` would: the posterior of the
free variables and deterministics with the padding trimmed away (every padded dimension holds
its real entries first), on the unpadded model's coordinates and dimensions, its
``observed_data`` and ``constant_data``, and ``sample_stats`` (``diverging``,
``acceptance_rate``, ``step_size``, ``n_steps``, ``tree_depth``, ``energy`` and ``lp``, the
padded model's log density, which differs from the unpadded one's by the prior-only walk steps).
The same seed gives the same draws in every process (XLA on CPU is deterministic).
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["CompiledStructure", "cached_structures", "prepare", "sample"]

#: Compiled structures of this process, by (model class, structure hash).
_STRUCTURES: dict[tuple[str, str], CompiledStructure] = {}
_LOCK = threading.Lock()

#: Padded models and structures built by :func:`prepare`, for the next :func:`sample`.
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

#: Retries of a jittered starting point whose log density is not finite (as PyMC).
_JITTER_RETRIES = 10


def cached_structures() -> dict[tuple[str, str], CompiledStructure]:
    """Return this process's compiled structures (a copy of the cache, for inspection)."""
    return dict(_STRUCTURES)


def _graphs(model) -> tuple[list, list, list[str]]:
    """Return the padded model's log density, its outputs, and the data names."""
    from pymc.util import get_default_varnames

    data_names = sorted(v.name for v in model.data_vars)
    outputs = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    return [model.logp()], outputs, data_names


def _structure_hash(model_cls: type, logp: list, outputs: list, data_names: list[str]) -> str:
    """Hash the printed graph: shared data appear by name, never by value."""
    from pytensor.printing import debugprint

    text = debugprint([*logp, *outputs], file="str", print_type=True)
    digest = hashlib.sha256(f"{model_cls.__module__}.{model_cls.__qualname__}".encode())
    digest.update(text.encode())
    digest.update(repr(data_names).encode())
    return digest.hexdigest()


class CompiledStructure:
    """The JAX functions of one padded model structure and its compiled NUTS programs.

    Parameters
    ----------
    model
        The padded ``pymc.Model``. It is kept: its shared data are set to each fit's values
        before its (compiled once) initial-point function draws the starting points.
    logp, outputs, data_names
        From :func:`_graphs`.
    key
        (model class, structure hash): names this structure's programs across processes.
    """

    def __init__(self, model, logp, outputs, data_names, *, key: tuple[str, str]):
        import jax
        import jax.numpy as jnp
        from pymc.initial_point import make_initial_point_fn
        from pymc.sampling.jax import get_jaxified_graph
        from pytensor.graph.replace import clone_replace

        self.model = model
        self.key = key
        self.data_names = list(data_names)
        shared = [model[name] for name in self.data_names]
        inputs = [s.type() for s in shared]  # symbolic stand-ins: arguments, not constants
        logp_graph, *output_graphs = clone_replace(
            [*logp, *outputs], replace=dict(zip(shared, inputs, strict=True))
        )
        value_vars = model.value_vars
        self.output_names = [v.name for v in outputs]
        logp_fn = get_jaxified_graph(inputs=value_vars + inputs, outputs=[logp_graph])
        outputs_fn = get_jaxified_graph(inputs=value_vars + inputs, outputs=output_graphs)
        start = model.initial_point()
        self.value_names = [v.name for v in value_vars]
        self.value_shapes = [np.shape(start[name]) for name in self.value_names]
        sizes = [int(np.prod(shape)) for shape in self.value_shapes]
        self.offsets = np.cumsum([0, *sizes])

        def unpack(z):
            return [
                jnp.reshape(z[a:b], shape)
                for a, b, shape in zip(
                    self.offsets[:-1], self.offsets[1:], self.value_shapes, strict=True
                )
            ]

        def logp_flat(z, data):
            return logp_fn(*unpack(z), *data)[0]

        def outputs_one(z, data):
            return outputs_fn(*unpack(z), *data)

        self.logp_flat: Callable = jax.jit(logp_flat)
        self.outputs_all: Callable = jax.jit(
            jax.vmap(jax.vmap(outputs_one, in_axes=(0, None)), in_axes=(0, None))
        )
        self.initial_point_fn = make_initial_point_fn(
            model=model, jitter_rvs=set(model.free_RVs), return_transformed=True
        )
        self._programs: dict[tuple, Callable] = {}
        self._lock = threading.Lock()

    def program(
        self, draws: int, tune: int, chains: int, target_accept: float, args: tuple
    ) -> Callable:
        """Return the NUTS program of this budget, compiled once for arguments like ``args``.

        ``args`` are the program's arguments (chain keys, starting points, data): compiling
        ahead of the call lets :func:`prepare` compile two models' programs at once, since
        XLA compiles without holding the GIL.
        """
        key = (draws, tune, chains, target_accept)
        with self._lock:
            if key not in self._programs:
                program = self._make_program(draws, tune, chains, target_accept)
                with _compile_lock((*self.key, *key)):
                    self._programs[key] = program.lower(*args).compile()
            return self._programs[key]

    def _make_program(self, draws: int, tune: int, chains: int, target_accept: float):
        import jax
        from numpyro.infer.hmc import hmc

        logp_flat = self.logp_flat

        def potential_fn_gen(*data):
            return lambda z: -logp_flat(z, data)

        init_kernel, sample_kernel = hmc(potential_fn_gen=potential_fn_gen, algo="NUTS")

        def chain(key, z0, data):
            state = init_kernel(
                z0, tune, target_accept_prob=target_accept, model_args=data, rng_key=key
            )

            def step(state, _):
                state = sample_kernel(state, model_args=data)
                stats = (
                    state.diverging,
                    state.accept_prob,
                    state.num_steps,
                    state.adapt_state.step_size,
                    state.energy,
                    state.potential_energy,
                )
                return state, (state.z, stats)

            # One loop over warm-up and draws (the kernel adapts while its step count is under
            # ``tune``): the NUTS kernel is compiled once, not once per phase (cold compile of
            # the DPRK program 7.3 -> 5.6 s, same draws).
            _, draws_and_stats = jax.lax.scan(step, state, None, length=tune + draws)
            return jax.tree.map(lambda x: x[tune:], draws_and_stats)

        if jax.local_device_count() >= chains:
            return jax.pmap(chain, in_axes=(0, 0, None))
        return jax.jit(jax.vmap(chain, in_axes=(0, 0, None)))

    def data_values(self, model) -> tuple[np.ndarray, ...]:
        """Return the shared data of ``model`` (same structure) in this structure's order."""
        return tuple(np.asarray(model[name].get_value()) for name in self.data_names)

    def starting_points(self, data, chains: int, seed: int) -> np.ndarray:
        """Jittered starting points (PyMC's ``jitter+adapt_diag``) with a finite log density."""
        seeds = np.random.default_rng(seed).integers(2**30, size=chains)
        points = []
        with self._lock:
            for name, value in zip(self.data_names, data, strict=True):
                self.model[name].set_value(value)
            for chain_seed in seeds:
                rng = np.random.default_rng(chain_seed)
                attempt = int(chain_seed)
                for _ in range(_JITTER_RETRIES + 1):
                    point = self.initial_point_fn(attempt)
                    z = np.concatenate([np.ravel(point[n]) for n in self.value_names])
                    if np.isfinite(float(self.logp_flat(z, data))):
                        break
                    attempt = int(rng.integers(2**30))
                points.append(z)
        return np.stack(points)


#: Longest wait for another process compiling the same program before compiling it here too.
COMPILE_LOCK_TIMEOUT = 600.0


def _compile_lock(program_key: tuple):
    """Hold the lock file of one NUTS program while compiling it.

    Two processes that need the same program (two reports, a sweep's workers) would each
    compile it, 5-20 s a model: the second now waits for the first, then reads the program
    from JAX's persistent cache.
    """
    from decision.core.atomic import work_lock
    from decision.core.backend import compile_cache_dir

    name = "nuts-" + hashlib.sha256(repr(program_key).encode()).hexdigest()[:32]
    return work_lock(compile_cache_dir() / "locks", name, COMPILE_LOCK_TIMEOUT)


def _structure(bayes_model, padded) -> CompiledStructure:
    logp, outputs, data_names = _graphs(padded)
    key = (
        type(bayes_model).__qualname__,
        _structure_hash(type(bayes_model), logp, outputs, data_names),
    )
    with _LOCK:
        if key not in _STRUCTURES:
            _STRUCTURES[key] = CompiledStructure(padded, logp, outputs, data_names, key=key)
        return _STRUCTURES[key]


def _target_shapes(model, names: list[str], padded_shapes: dict[str, tuple]) -> dict[str, tuple]:
    """Return each output's shape in the unpadded ``model`` (dims, else its static shape)."""
    dims = model.named_vars_to_dims
    shapes = {}
    for name in names:
        if name in dims and dims[name]:
            shapes[name] = tuple(len(model.coords[d]) for d in dims[name])
            continue
        static = model[name].type.shape
        if any(size is None for size in static):
            raise ValueError(f"{name} has no dims and no static shape: cannot trim its padding")
        shapes[name] = tuple(int(size) for size in static)
        if len(shapes[name]) != len(padded_shapes[name]):
            raise ValueError(f"{name}: padded shape {padded_shapes[name]} vs {shapes[name]}")
    return shapes


def _ready(bayes_model, draws, tune, chains, target_accept, random_seed):
    """Return the padded model, its structure, the program's arguments and its program."""
    import jax

    from decision.models.special import register_jax

    register_jax()  # PyTensor's JAX backend learns beta_cdf before any graph is converted

    prepared = _PREPARED.pop(bayes_model, None)
    if prepared is None:
        padded = bayes_model.build(padded=True)
        structure = _structure(bayes_model, padded)
    else:
        padded, structure = prepared
    data = structure.data_values(padded)
    seed = int(random_seed)
    start = structure.starting_points(data, int(chains), seed)
    keys = jax.random.split(jax.random.PRNGKey(seed), int(chains))
    args = (keys, start, data)
    program = structure.program(int(draws), int(tune), int(chains), float(target_accept), args)
    return padded, structure, args, program


def prepare(
    bayes_model,
    *,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float,
    random_seed: int,
    **_ignored: Any,
) -> None:
    """Build ``bayes_model``'s structure and compile its NUTS program, without sampling.

    :func:`sample` then finds both ready (the padded model is kept for that one call). Run
    in threads, this compiles several models at once: XLA compiles without the GIL (a cold
    fit of both models: compiling the two programs side by side saves about 3 s of 17).
    """
    import pymc.sampling.jax  # noqa: F401  (sets the host device count before JAX starts)

    padded, structure, _, _ = _ready(bayes_model, draws, tune, chains, target_accept, random_seed)
    _PREPARED[bayes_model] = (padded, structure)


def sample(
    bayes_model,
    model,
    *,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float,
    random_seed: int,
    while_sampling: Callable[[], Any] | None = None,
    **_ignored: Any,
):
    """Sample ``bayes_model`` with the structure's compiled NUTS; return ``InferenceData``.

    Parameters
    ----------
    bayes_model
        A :class:`~decision.models.base.BayesianModel` (its ``build(padded=True)`` is run).
    model
        Its unpadded ``pymc.Model`` (``build()``): the coordinates, dimensions, observed and
        constant data of the result, and the shapes the padding is trimmed to.
    draws, tune, chains, target_accept, random_seed
        As ``pymc.sample``. Other keywords of ``pymc.sample`` (``progressbar``, ...) are
        accepted and ignored.
    while_sampling
        Called in this thread while the program samples (XLA runs it asynchronously).
    """
    import arviz as az
    import jax
    import numpyro
    import pymc.sampling.jax  # noqa: F401  (sets the host device count before JAX starts)
    from arviz.data.base import make_attrs
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )

    padded, structure, (keys, start, data), program = _ready(
        bayes_model, draws, tune, chains, target_accept, random_seed
    )
    began = time.perf_counter()
    z, (diverging, accept, n_steps, step_size, energy, potential) = program(keys, start, data)
    if while_sampling is not None:
        while_sampling()  # the program runs asynchronously: this thread is free meanwhile
    z = jax.block_until_ready(z)
    elapsed = time.perf_counter() - began  # at least while_sampling's time
    values = [np.asarray(v) for v in structure.outputs_all(z, data)]
    padded_shapes = {n: v.shape[2:] for n, v in zip(structure.output_names, values, strict=True)}
    target = _target_shapes(model, structure.output_names, padded_shapes)
    posterior = {
        name: value[(slice(None), slice(None), *(slice(0, s) for s in target[name]))]
        for name, value in zip(structure.output_names, values, strict=True)
    }
    n_steps = np.asarray(n_steps)
    sample_stats = {
        "diverging": np.asarray(diverging),
        "acceptance_rate": np.asarray(accept),
        "n_steps": n_steps,
        "tree_depth": np.log2(np.maximum(n_steps, 1)).astype(int) + 1,
        "step_size": np.asarray(step_size),
        "energy": np.asarray(energy),
        "lp": -np.asarray(potential),
    }
    coords, dims = coords_and_dims_for_inferencedata(model)
    attrs = make_attrs({"sampling_time": elapsed, "tuning_steps": int(tune)}, library=numpyro)
    return az.from_dict(
        posterior=posterior,
        sample_stats=sample_stats,
        observed_data=find_observations(model),
        constant_data=find_constants(model),
        coords=coords,
        dims=dims,
        attrs=attrs,
        posterior_attrs=attrs,
    )
