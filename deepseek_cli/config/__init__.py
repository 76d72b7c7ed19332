"""Configuration: the config file, profiles and their precedence, API keys, paths, edits.

``files`` reads and validates ``config.toml``; ``profiles`` resolves a profile (built-ins <
file < environment < flags); ``keys`` finds the API key; ``settings`` adds a command's request
flags and the model's catalog entry; ``edit`` writes the file (``config init``/``set``);
``view`` reports what ``config show``/``profiles`` print; ``paths`` says where state lives.
Below it only the catalog and the leaf modules.
"""
