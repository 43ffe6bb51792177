from taar_amodump.cli import main

main()
