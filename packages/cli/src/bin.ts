#!/usr/bin/env node
import { runCli } from './run-cli.js'

// `runner start` never returns here: its signal handlers exit the process.
process.exit(await runCli(process.argv))
