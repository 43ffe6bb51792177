from taar_report.cli import main

main()
