"""deepseek-cli: a terminal client for DeepSeek-family models on DashScope, DeepSeek's API
and OpenAI-compatible servers."""

__version__ = "0.1.0"
