"""Structured, bilingual errors of the sampling engine (no Flask here: codes, parameters, two languages)."""

from __future__ import annotations

from typing import Any

_MESSAGES: dict[str, tuple[str, str]] = {
    "bad_record": ("record {position}: field {field} is invalid ({reason})",
                   "第 {position} 条记录：字段 {field} 无效（{reason}）"),
    "mixed_key_types": ("record {position}: key {key} mixes text and numbers at position {index}",
                        "第 {position} 条记录：键 {key} 的第 {index} 位与其他记录类型不同（文本/数字混用）"),
    "duplicate_key": ("two records share the stable key {key}", "两条记录的稳定键相同：{key}"),
    "duplicate_case": ("case {case_id} appears twice in the population", "案件 {case_id} 在总体中出现两次"),
    "unknown_mode": ("unknown sampling mode {mode!r}; use one of {modes}",
                     "未知的抽样方式 {mode!r}；可用：{modes}"),
    "bad_parameter": ("sampling plan parameter {parameter} is invalid: {reason}",
                      "抽样方案参数 {parameter} 无效：{reason}"),
    "unknown_stratum_field": ("unknown stratum field {field!r}; use one of {fields}",
                              "未知的分层字段 {field!r}；可用：{fields}"),
    "stratum_too_small": ("stratum {stratum} has {available} eligible cases but the plan asks for {requested}",
                          "层 {stratum} 只有 {available} 件可抽案件，而方案要求抽取 {requested} 件"),
    "designated_missing": ("stratum {stratum}: no closed case at or after sequence number {sequence}",
                           "层 {stratum}：序号 {sequence} 及其后没有已结案件可抽"),
    "bad_seed": ("the seed must be non-empty text or an integer, got {seed!r}",
                 "随机种子必须是非空文本或整数，实际为 {seed!r}"),
}


class SamplingError(ValueError):
    """A sampling input or plan problem, with a code, parameters and English and Chinese messages.

    Attributes
    ----------
    code : str
        Machine-readable reason, e.g. ``"stratum_too_small"``.
    params : dict
        The values named in the message (stratum, sizes, field, ...).
    message_en, message_zh : str
        The message in English and in Chinese.
    """

    def __init__(self, code: str, **params: Any) -> None:
        english, chinese = _MESSAGES[code]
        self.code = code
        self.params = params
        self.message_en = english.format(**params)
        self.message_zh = chinese.format(**params)
        super().__init__(f"{self.message_en} / {self.message_zh}")
