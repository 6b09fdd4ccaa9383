"""`create_model()`: the model the agent runs on, chosen by the settings (docs/backend.md, "Models").

- `openai`: the Responses API (OpenAI's own endpoint, or LLM_BASE_URL).
- `gemini`: Chat Completions on Google's OpenAI-compatible endpoint with GEMINI_API_KEY.
- `openai-compatible`: Chat Completions at LLM_BASE_URL (Ollama, vLLM, LM Studio).
- `offline`: the built-in deterministic model.
Keys stay in this process; the OpenAI client retries 429s, 5xx and timeouts with backoff.
"""

from __future__ import annotations

from agents import Model, OpenAIChatCompletionsModel, OpenAIResponsesModel
from openai import AsyncOpenAI

from backend.agent.offline import OfflineModel
from backend.settings import BackendSettings

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"
DEFAULT_MODELS = {"openai": "gpt-4.1-mini", "gemini": "gemini-2.5-flash"}


def create_model(settings: BackendSettings) -> Model:
    """The model for `settings.provider` (validated at start-up: a chosen provider has its key)."""
    provider = settings.provider
    if provider == "offline":
        return OfflineModel()

    def client(key: str | None, base_url: str | None) -> AsyncOpenAI:
        return AsyncOpenAI(
            api_key=key or "not-needed",
            base_url=base_url,
            max_retries=settings.llm_max_retries,
            timeout=settings.llm_timeout_seconds,
        )

    openai_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if provider == "openai":
        name = settings.llm_model or DEFAULT_MODELS["openai"]
        return OpenAIResponsesModel(model=name, openai_client=client(openai_key, settings.llm_base_url))
    if provider == "gemini":
        key = settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None
        name = settings.llm_model or DEFAULT_MODELS["gemini"]
        return OpenAIChatCompletionsModel(
            model=name, openai_client=client(key, settings.llm_base_url or GEMINI_BASE_URL)
        )
    assert settings.llm_model and settings.llm_base_url  # checked by the settings
    return OpenAIChatCompletionsModel(
        model=settings.llm_model, openai_client=client(openai_key, settings.llm_base_url)
    )


async def close_model(model: Model) -> None:
    """Close the HTTP client of a provider model (the SDK models keep it as `_client`)."""
    client = getattr(model, "_client", None)
    if isinstance(client, AsyncOpenAI):
        await client.close()
