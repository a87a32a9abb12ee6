"""File extension → language name, for the analysis summary and the offline planner."""

from __future__ import annotations

from pathlib import PurePosixPath

_BY_SUFFIX = {
    ".py": "Python", ".pyi": "Python", ".js": "JavaScript", ".mjs": "JavaScript",
    ".cjs": "JavaScript", ".jsx": "JavaScript", ".ts": "TypeScript", ".tsx": "TypeScript",
    ".go": "Go", ".rs": "Rust", ".java": "Java", ".kt": "Kotlin", ".rb": "Ruby", ".php": "PHP",
    ".c": "C", ".h": "C", ".cc": "C++", ".cpp": "C++", ".hpp": "C++", ".cs": "C#",
    ".swift": "Swift", ".scala": "Scala", ".sh": "Shell", ".bash": "Shell", ".vue": "Vue",
    ".svelte": "Svelte", ".html": "HTML", ".css": "CSS", ".scss": "CSS", ".tcss": "CSS",
    ".md": "Markdown", ".rst": "reStructuredText", ".json": "JSON", ".toml": "TOML",
    ".yaml": "YAML", ".yml": "YAML", ".sql": "SQL", ".lua": "Lua", ".ex": "Elixir",
    ".exs": "Elixir", ".dart": "Dart",
}
_BY_NAME = {"Makefile": "Make", "Dockerfile": "Docker"}

SOURCE_EXTENSION = {
    "Python": ".py", "JavaScript": ".js", "TypeScript": ".ts", "Go": ".go", "Rust": ".rs",
    "Java": ".java", "Ruby": ".rb", "PHP": ".php", "C#": ".cs", "Kotlin": ".kt",
}
"""The extension the offline planner gives new source files, by the repo's main language."""


def language_of(name: str) -> str | None:
    path = PurePosixPath(name)
    return _BY_NAME.get(path.name) or _BY_SUFFIX.get(path.suffix.lower())
