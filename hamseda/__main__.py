from hamseda.cli import main

main()
