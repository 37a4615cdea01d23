# pushbench.mk - builds bench/pushbench.c with the main Makefile's flags and libraries, so
# that it links whatever the libraries need today. Used by bench/run.sh:
#   make -f Makefile -f bench/pushbench.mk build/bench/pushbench
$(BUILD)/bench/pushbench: bench/pushbench.c $(BUILD)/libsonde_plugins.a $(BUILD)/libsonde_core.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBS_GROUP) $(LDLIBS)
