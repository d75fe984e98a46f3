"""The forward-dynamics model: a small causal transformer over frame, memory and action tokens.

Token layout of one sequence (L = M + S*F + T):

    [ memory: M clicks/keys before the window ][ frames: S slots x F tokens ][ ticks: T action tokens ]

Every token has a time: memory -1, a frame the tick it was captured at (-1 if before the window), tick i
i + 0.5. A token attends to tokens whose time is not later than its own, so frames and actions are
interleaved in time without being interleaved in memory, and training can supervise all T ticks at once.

Heads read each tick token and predict the future from there: the next tick's action tokens (dx bin, dy bin,
first event token), where the pointer's current movement ends (its point, as an offset from the pointer, with
alternatives; when; whether it ends in a press and with which button), a self-assessed "will the point be
within 30 px", and the next key. Predicting the endpoint at every tick is what makes ghost trajectories land
(FDM-1 predicts the click position alongside every mouse token).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from inference import actions, features, goal_features


@dataclass(frozen=True)
class ModelConfig:
    context_ticks: int = 64  # T: ticks of history the model sees (64 / 30 Hz = 2.1 s)
    d_model: int = 128  # width of every token
    n_layer: int = 4  # transformer blocks
    n_head: int = 4  # attention heads per block
    dropout: float = 0.0  # on attention and MLP outputs
    n_hypotheses: int = 3  # alternative click points (winner-takes-all), besides the primary one
    click_horizon: int = 90  # ticks ahead within which the current movement must end to be a target (3 s)
    key_horizon: int = 60  # ticks ahead within which a key press counts as "the next key" (2 s)
    use_frames: bool = True  # False: a pointer-only model (the frame encoder is not built)
    use_goals: bool = False  # True: goal and screen-text tokens, and a head that points at the text the goal names
    vocab_size: int = actions.VOCAB_SIZE
    mouse_bins: int = actions.MOUSE_BINS
    event_slots: int = features.EVENT_SLOTS
    memory_slots: int = features.MEMORY_SLOTS
    frame_slots: int = features.FRAME_SLOTS
    n_key_classes: int = features.N_KEY_CLASSES

    def to_dict(self) -> dict:
        return asdict(self)


FRAME_TOKENS = 8  # per frame: 4 from the global view (2 x 2), 4 from the pointer crop (2 x 2)


class FrameEncoder(nn.Module):
    """A global low-resolution view and a full-resolution crop at the pointer -> FRAME_TOKENS tokens."""

    def __init__(self, d_model: int) -> None:
        super().__init__()

        def stack() -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(3, 16, 5, stride=2, padding=2), nn.GELU(),
                nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.GELU(),
                nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.GELU(),
                nn.Conv2d(64, d_model, 3, stride=2, padding=1),
            )  # fmt: skip

        self.global_view, self.crop_view = stack(), stack()
        self.spatial = nn.Parameter(torch.zeros(FRAME_TOKENS, d_model))

    @staticmethod
    def _quadrants(x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape  # (N, C, h, w), h and w even
        x = x.reshape(n, c, 2, h // 2, 2, w // 2).mean(dim=(3, 5))  # (N, C, 2, 2)
        return x.flatten(2).transpose(1, 2)  # (N, 4, C)

    def forward(self, global_view: torch.Tensor, crop: torch.Tensor) -> torch.Tensor:
        b, s = global_view.shape[:2]
        g = self.global_view(global_view.flatten(0, 1))  # (B*S, C, 4, 8)
        c = self.crop_view(crop.flatten(0, 1))  # (B*S, C, 4, 4)
        tokens = torch.cat([self._quadrants(g), self._quadrants(c)], dim=1)  # (B*S, 8, C)
        return (tokens + self.spatial).reshape(b, s * FRAME_TOKENS, -1)  # (B, S*8, C)


class GoalTokens(nn.Module):
    """Goal and screen-text tokens in; a pointer over the text slots (which text the next click is on or
    beside, or none) and the click's offset from that text out."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.goal = nn.Linear(goal_features.GOAL_FEATURES, d_model)
        self.text_embedding = nn.Linear(goal_features.EMBED_DIM, d_model)
        geometry = goal_features.GEOMETRY
        self.text_geometry = nn.Sequential(nn.Linear(geometry, d_model), nn.GELU(), nn.Linear(d_model, d_model))
        self.kind = nn.Parameter(torch.zeros(2, d_model))  # goal, text
        self.query, self.key = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.none = nn.Linear(d_model, 1)
        self.offset = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, 2))
        self.scale = 1.0 / math.sqrt(d_model)

    def tokens(self, goal: torch.Tensor, texts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = goal_features.EMBED_DIM
        g = self.goal(goal)[:, None] + self.kind[0]  # (B, 1, C)
        x = self.text_embedding(texts[..., :e]) + self.text_geometry(texts[..., e:]) + self.kind[1]  # (B, K, C)
        return torch.cat([g, x], dim=1), torch.cat([goal[:, -1:], texts[..., -1]], dim=1)

    def heads(self, h: torch.Tensor, text: torch.Tensor, text_valid: torch.Tensor) -> dict[str, torch.Tensor]:
        # h (B, T, C) ticks, text (B, K, C) text tokens after the blocks, text_valid (B, K)
        scores = self.query(h) @ self.key(text).transpose(1, 2) * self.scale  # (B, T, K)
        scores = scores + (text_valid[:, None, :] - 1.0) * 1e4  # empty slots never win
        logits = torch.cat([scores, self.none(h)], dim=-1)  # (B, T, K + 1): the last one is "no text"
        offsets = _offset(self.offset(h[:, :, None] + text[:, None]))  # (B, T, K, 2) from the text's centre
        return {"text_logits": logits, "text_offsets": offsets}


class Block(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.d_model
        self.n_head, self.head_dim = config.n_head, config.d_model // config.n_head
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape  # (B, L, C)
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=2)
        q, k, v = (z.reshape(b, n, self.n_head, self.head_dim).transpose(1, 2) for z in (q, k, v))  # (B, H, L, c)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim)) + bias  # (B, H, L, L)
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, d)  # (B, L, C)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.mlp(self.ln2(x)))


class ForwardDynamicsModel(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        d, k = config.d_model, config.n_hypotheses
        self.dx_embed = nn.Embedding(config.mouse_bins, d)
        self.dy_embed = nn.Embedding(config.mouse_bins, d)
        self.event_embed = nn.Embedding(config.vocab_size, d, padding_idx=actions.NOOP)
        self.tick_cont = nn.Linear(features.TICK_CONT, d)
        self.mem_cont = nn.Linear(features.MEM_CONT, d)
        self.tick_pos = nn.Embedding(config.context_ticks + 1, d)  # index 0: before the window
        self.kind = nn.Embedding(3, d)  # memory, frame, tick
        self.screen = nn.Linear(2, d)
        self.frames = FrameEncoder(d) if config.use_frames else None
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(d)
        self.action_head = nn.Linear(d, 2 * config.mouse_bins + config.vocab_size)
        # primary offset (2), hypotheses (2k), hypothesis scores (k), click soon, log ticks, button (3), correct
        self.click_head = nn.Linear(d, 2 + 3 * k + 6)
        self.key_head = nn.Linear(d, config.n_key_classes)
        self.goals = GoalTokens(d) if config.use_goals else None
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def _tick_tokens(self, tick_ids: torch.Tensor, tick_cont: torch.Tensor) -> torch.Tensor:
        t = tick_ids.shape[1]  # tick_ids (B, T, 2 + E), tick_cont (B, T, TICK_CONT)
        x = self.dx_embed(tick_ids[..., 0]) + self.dy_embed(tick_ids[..., 1])  # (B, T, C)
        x = x + self.event_embed(tick_ids[..., 2:]).sum(dim=2) + self.tick_cont(tick_cont)
        positions = torch.arange(1, t + 1, device=tick_ids.device)
        return x + self.tick_pos(positions) + self.kind.weight[2]

    def forward(
        self,
        tick_ids: torch.Tensor,  # (B, T, 2 + E) int64
        tick_cont: torch.Tensor,  # (B, T, TICK_CONT) float
        mem_ids: torch.Tensor,  # (B, M) int64
        mem_cont: torch.Tensor,  # (B, M, MEM_CONT) float
        frame_global: torch.Tensor,  # (B, S, 3, GLOBAL_H, GLOBAL_W) float in [0, 1]
        frame_crop: torch.Tensor,  # (B, S, 3, CROP, CROP) float in [0, 1]
        frame_meta: torch.Tensor,  # (B, S, 2) float: tick index in the window (-1 = before it), valid
        screen: torch.Tensor,  # (B, 2) float: width / 2000, height / 2000
        goal: torch.Tensor | None = None,  # (B, GOAL_FEATURES): goal embedding, valid (use_goals only)
        texts: torch.Tensor | None = None,  # (B, K, TEXT_FEATURES): screen texts (inference/goal_features.py)
    ) -> dict[str, torch.Tensor]:
        b, t = tick_ids.shape[:2]
        ticks = self._tick_tokens(tick_ids, tick_cont)  # (B, T, C)
        memory = self.event_embed(mem_ids) + self.mem_cont(mem_cont) + self.kind.weight[0]  # (B, M, C)
        tokens, times, valid = [memory], [torch.full_like(mem_cont[..., 0], -1.0)], [mem_cont[..., 3]]
        if self.frames is not None:
            s = frame_meta.shape[1]
            frame_tick = frame_meta[..., 0]  # (B, S)
            frames = self.frames(frame_global, frame_crop).reshape(b, s, FRAME_TOKENS, -1)  # (B, S, 8, C)
            pos = self.tick_pos((frame_tick + 1).clamp(0, t).long())  # (B, S, C)
            frames = frames + pos[:, :, None] + self.kind.weight[1]
            tokens.append(frames.reshape(b, s * FRAME_TOKENS, -1))
            times.append(frame_tick.repeat_interleave(FRAME_TOKENS, dim=1))
            valid.append(frame_meta[..., 1].repeat_interleave(FRAME_TOKENS, dim=1))
        k_text = 0
        if self.goals is not None:
            assert goal is not None and texts is not None
            goal_tokens, goal_valid = self.goals.tokens(goal, texts)  # (B, 1 + K, C), (B, 1 + K)
            k_text = texts.shape[1]
            tokens.insert(0, goal_tokens)  # first, so the text tokens sit at positions 1 .. K
            times.insert(0, torch.full_like(goal_valid, -1.0))
            valid.insert(0, goal_valid)
        tokens.append(ticks)
        times.append(torch.arange(t, device=ticks.device, dtype=ticks.dtype).expand(b, t) + 0.5)
        valid.append(tick_cont[..., 5])
        x = torch.cat(tokens, dim=1) + self.screen(screen)[:, None]  # (B, L, C)
        bias = self._attention_bias(torch.cat(times, dim=1), torch.cat(valid, dim=1))  # (B, 1, L, L)
        for block in self.blocks:
            x = block(x, bias)
        x = self.ln_f(x)
        h = x[:, -t:]  # (B, T, C): tick tokens are read out
        out = self._heads(h)
        if self.goals is not None:
            assert texts is not None
            out.update(self.goals.heads(h, x[:, 1 : 1 + k_text], texts[..., -1]))
        return out

    @staticmethod
    def _attention_bias(times: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """A query sees valid keys that are not later than itself, and always itself."""
        n = times.shape[1]
        allowed = (times[:, None, :] <= times[:, :, None]) & (valid[:, None, :] > 0.5)  # (B, L, L)
        index = torch.arange(n, device=times.device)
        allowed = allowed | (index[:, None] == index[None, :])
        zero = torch.zeros((), dtype=times.dtype, device=times.device)
        return torch.where(allowed, zero, torch.full_like(zero, -1e9))[:, None]

    def _heads(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        k, bins = self.config.n_hypotheses, self.config.mouse_bins
        act = self.action_head(h)  # (B, T, 2*bins + V)
        click = self.click_head(h)  # (B, T, 2 + 3k + 6)
        b, t = h.shape[:2]
        return {
            "dx_logits": act[..., :bins],
            "dy_logits": act[..., bins : 2 * bins],
            "event_logits": act[..., 2 * bins :],
            "click_offset": _offset(click[..., 0:2]),  # (B, T, 2) in units of max(width, height)
            "hyp_offsets": _offset(click[..., 2 : 2 + 2 * k].reshape(b, t, k, 2)),
            "hyp_logits": click[..., 2 + 2 * k : 2 + 3 * k],
            "click_soon_logit": click[..., 2 + 3 * k],
            "click_log_ticks": click[..., 3 + 3 * k],
            "button_logits": click[..., 4 + 3 * k : 7 + 3 * k],
            "correct_logit": click[..., 7 + 3 * k],
            "key_logits": self.key_head(h),  # (B, T, 1 + n keys), class 0 = no key within the horizon
        }


OFFSET_UNIT = 0.01  # ~19 px on a 1920-px screen


def _offset(raw: torch.Tensor) -> torch.Tensor:
    """Raw head output -> click offset. sinh makes small offsets as easy to express as large ones, and an
    untrained head (raw = 0) predicts "the click happens where the pointer is", the strongest simple baseline."""
    raw = raw.clamp(-12.0, 12.0)
    return OFFSET_UNIT * 0.5 * (raw.exp() - (-raw).exp())  # sinh, spelled out for the ONNX exporter


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (values * mask).sum() / mask.sum().clamp(min=1e-6)  # masks may hold fractional weights


def loss_terms(out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each training objective, averaged over the ticks where its target is known."""
    am, cm, km = tgt["action_mask"], tgt["click_mask"], tgt["key_mask"]
    mm = tgt["move_mask"]  # while a movement is under way; at rest it ends where it is
    ew = tgt["endpoint_weight"]  # which moving ticks' endpoints count, and how much (inference/windows.py)

    def ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none").view_as(target)

    action = ce(out["dx_logits"], tgt["next_dx"]) + ce(out["dy_logits"], tgt["next_dy"])
    action = action + ce(out["event_logits"], tgt["next_event"])
    # Euclidean distance (in screen units) is what the endpoint metric measures; its minimizer is the median.
    dist = (out["click_offset"] - tgt["click_offset"]).square().sum(-1).add(1e-8).sqrt()  # (B, T)
    hyp_dist = (out["hyp_offsets"] - tgt["click_offset"][:, :, None]).square().sum(-1).add(1e-8).sqrt()  # (B, T, K)
    best = hyp_dist.argmin(-1)  # winner takes all, with a little pull on every hypothesis
    hyp = hyp_dist.min(-1).values + 0.05 * hyp_dist.mean(-1)
    correct = (dist.detach() * tgt["scale_px"] < 30.0).float()
    soon = F.binary_cross_entropy_with_logits(out["click_soon_logit"], tgt["click_soon"], reduction="none")
    return {
        "action": _masked_mean(action, am),
        "click": _masked_mean(dist, ew),
        "hypotheses": _masked_mean(hyp, ew),
        "hyp_choice": _masked_mean(ce(out["hyp_logits"], best), ew),
        "click_soon": _masked_mean(soon, cm),
        "click_time": _masked_mean((out["click_log_ticks"] - tgt["click_ticks"].log()).abs(), mm),
        "button": _masked_mean(ce(out["button_logits"], tgt["click_button"]), tgt["button_mask"]),
        "correct": _masked_mean(
            F.binary_cross_entropy_with_logits(out["correct_logit"], correct, reduction="none"), ew
        ),
        "key": _masked_mean(ce(out["key_logits"], tgt["key_class"]), km),
        **(_goal_terms(out, tgt) if "text_logits" in out else {}),
    }


def _goal_terms(out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Which text the next press is on (or beside), and where on it, for the goal-conditioned model."""
    logits, target, mask = out["text_logits"], tgt["text_target"], tgt["text_mask"]
    choice = F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none").view_as(target)
    k = out["text_offsets"].shape[2]
    on_text = mask * (target < k).float()
    index = target.clamp(max=k - 1)[..., None, None].expand(-1, -1, 1, 2)  # (B, T, 1, 2)
    chosen = out["text_offsets"].gather(2, index)[:, :, 0]  # (B, T, 2)
    dist = (chosen - tgt["text_offset"]).square().sum(-1).add(1e-8).sqrt()
    return {"text_choice": _masked_mean(choice, mask), "text_offset": _masked_mean(dist, on_text)}


LOSS_WEIGHTS = {
    "action": 1.0,
    "click": 20.0,  # distances are fractions of the screen (~0.05): scale them up to matter
    "hypotheses": 10.0,
    "hyp_choice": 0.3,
    "click_soon": 0.5,
    "click_time": 0.3,
    "button": 0.2,
    "correct": 0.3,
    "key": 1.0,
    "text_choice": 1.0,
    "text_offset": 20.0,  # like "click": screen fractions
}


def total_loss(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum((LOSS_WEIGHTS[name] * value for name, value in terms.items()), torch.zeros(()))
