#compdef deepseek

_deepseek_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _DEEPSEEK_COMPLETE=complete_zsh deepseek)
}

compdef _deepseek_completion deepseek
