import { render } from 'preact';
import { App } from './app';
import { interceptLinks } from './lib/router';
import './styles.css';

const root = document.getElementById('app')!;
interceptLinks(document.body);
render(<App />, root);
