# bash completion for postroll (installed as
# /usr/share/bash-completion/completions/postroll). Commands, options and
# their values; folders for DIR; job ids from `postroll status` for JOB.
# Every command and option of `postroll --help` is offered here
# (tests/cli_tooling_test.cpp checks it). Needs no bash-completion helpers.

_postroll_job_ids() {
    # The first word of each job line; status reaches the node or reads the
    # local job database, and prints nothing else on stdout.
    "${COMP_WORDS[0]}" status 2>/dev/null | awk 'NR > 1 && $1 ~ /^j[0-9a-f]+$/ { print $1 }'
}

_postroll() {
    local cur prev command i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="process watch node nodes submit status cancel retry delete remove doctor help version"

    # The value of an option.
    case $prev in
        --config|--reference)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --data-dir)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -d -- "$cur"))
            return ;;
        --priority)
            COMPREPLY=($(compgen -W "high normal low" -- "$cur"))
            return ;;
        --retention)
            COMPREPLY=($(compgen -W "keep trash delete" -- "$cur"))
            return ;;
        --log-level)
            COMPREPLY=($(compgen -W "trace debug info warn error off" -- "$cur"))
            return ;;
        --node|--port)
            return ;;
    esac

    command=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --config|--data-dir|--node|--port|--priority|--log-level|--reference|--retention) ((i++)) ;;
            -*) ;;
            *) command=${COMP_WORDS[i]}; break ;;
        esac
    done

    local common="--config --data-dir --log-level --json --help --version"
    local options=""
    case $command in
        process) options="--priority --no-compress --no-enrich --retention --reference --resume" ;;
        watch) options="--priority --no-compress --no-enrich --resume" ;;
        submit) options="--node --priority --wait --live --no-compress --no-enrich --retention --resume" ;;
        node) options="--port" ;;
        status) options="--node --history" ;;
        delete) options="--node --outputs" ;;
        remove) options="--node --with-files" ;;
        cancel|retry|nodes) options="--node" ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$common $options" -- "$cur"))
        return
    fi
    case $command in
        "")
            COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
        process|watch|submit)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -d -- "$cur")) ;;
        status|cancel|retry|delete|remove)
            COMPREPLY=($(compgen -W "$(_postroll_job_ids)" -- "$cur")) ;;
    esac
}

complete -F _postroll postroll
