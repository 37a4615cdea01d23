/* default_config.S - embeds packaging/sonde.yaml as the default
 * configuration (sonde_default_config, NUL-terminated). */
    .section .rodata
    .global sonde_default_config
    .type sonde_default_config, @object
sonde_default_config:
    .incbin "packaging/sonde.yaml"
    .byte 0
    .size sonde_default_config, . - sonde_default_config
    .section .note.GNU-stack,"",@progbits
