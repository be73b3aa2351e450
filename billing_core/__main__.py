from billing_core.cli import main

main()
